#include "datapath/bpffs.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/files.h"

namespace cpp::datapath {

bool is_bpffs(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && static_cast<unsigned long>(st.f_type) == BPF_FS_MAGIC;
}

void ensure_bpffs(const std::string& mountpoint) {
  if (is_bpffs(mountpoint)) return;
  make_dirs(mountpoint);
  if (::mount("bpffs", mountpoint.c_str(), "bpf", 0, "mode=0700") != 0)
    throw std::runtime_error("mount bpffs on " + mountpoint + ": " + std::strerror(errno));
}

}  // namespace cpp::datapath
