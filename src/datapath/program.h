#pragma once
#include <functional>
#include <utility>
#include <string>

#include "datapath/consts.h"

namespace cpp::datapath {

// A datapath program loaded into the kernel but not attached anywhere. Owns
// the libbpf skeleton; destroying it releases the program unless something
// (a tc filter) still references it. Maps are pinned and outlive it.
class LoadedProgram {
 public:
  LoadedProgram(std::string name, int fd, std::function<void()> destroy)
      : name_(std::move(name)), fd_(fd), destroy_(std::move(destroy)) {}
  ~LoadedProgram() {
    if (destroy_) destroy_();
  }
  LoadedProgram(LoadedProgram&& o) noexcept
      : name_(std::move(o.name_)), fd_(o.fd_), destroy_(std::exchange(o.destroy_, nullptr)) {}
  LoadedProgram& operator=(LoadedProgram&&) = delete;
  LoadedProgram(const LoadedProgram&) = delete;
  LoadedProgram& operator=(const LoadedProgram&) = delete;

  const std::string& name() const { return name_; }  // the BPF function name
  int fd() const { return fd_; }

 private:
  std::string name_;
  int fd_;
  std::function<void()> destroy_;
};

// Open the embedded object, set the load-time constants, reuse or create the
// pinned maps under pin_dir (which must exist on bpffs) and load. Throws
// std::runtime_error naming the step that failed.
LoadedProgram load_host_object(const std::string& pin_dir, const NodeConsts& node);
LoadedProgram load_lxc_object(const std::string& pin_dir, const NodeConsts& node,
                              const EndpointConsts& ep, int lxc_ifindex);

LoadedProgram load_overlay_object(const std::string& pin_dir, const NodeConsts& node);

// Creates and pins every map under pin_dir without loading any program;
// the LB maps get lb.map_max entries.
void create_pinned_maps(const std::string& pin_dir, const LbConsts& lb);

}  // namespace cpp::datapath
