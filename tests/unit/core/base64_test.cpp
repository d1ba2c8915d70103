#include <gtest/gtest.h>

#include "common/base64.h"

using cpp::base64_decode;

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode("c2VjcmV0"), "secret");
  EXPECT_EQ(base64_decode("c2VjcmV0MQ=="), "secret1");
  EXPECT_EQ(base64_decode("c2VjcmV0MTI="), "secret12");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64, RejectsWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("c2VjcmV"));     // length not a multiple of 4
  EXPECT_FALSE(base64_decode("c2Vj*mV0"));    // bad character
  EXPECT_FALSE(base64_decode("c2=jcmV0"));    // padding in the middle
  EXPECT_FALSE(base64_decode("c===" ));       // too much padding
}
