#include <gtest/gtest.h>

#include "etcd_fixture.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  kvtest::install_cleanup_handlers();
  return RUN_ALL_TESTS();
}
