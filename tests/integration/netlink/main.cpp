#include <gtest/gtest.h>

#include "test_env.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  nltest::install_cleanup_handlers();
  return RUN_ALL_TESTS();
}
