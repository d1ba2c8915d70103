// VXLAN devices in external (collect_md) mode: one device for every remote
// node, the remote address and VNI come with each packet as tunnel metadata.
#include <netlink/route/link/vxlan.h>

#include "netlink/nl_internal.h"

namespace cpp {

LinkInfo Netlink::create_vxlan_external(const std::string& name, uint16_t dst_port, int mtu) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  std::string what = "create vxlan " + name + " (external, dstport " + std::to_string(dst_port) + ")";
  LinkPtr link(rtnl_link_vxlan_alloc());
  if (!link) throw_error(what + ": out of memory");
  rtnl_link_set_name(link.get(), name.c_str());
  if (mtu > 0) rtnl_link_set_mtu(link.get(), static_cast<unsigned>(mtu));
  // Addresses and VNIs come from each packet's metadata; nothing is learnt
  // from received frames (learning would fill an FDB nobody reads).
  if (rtnl_link_vxlan_set_collect_metadata(link.get(), 1) < 0 || rtnl_link_vxlan_set_port(link.get(), dst_port) < 0 ||
      rtnl_link_vxlan_set_learning(link.get(), 0) < 0)
    throw_error(what + ": cannot set vxlan attributes");
  im.reset();
  int err = rtnl_link_add(im.sk, link.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) {
    if (im.sys_errno(err) == EEXIST) throw_error(what + ": device " + name + " already exists");
    im.fail(what, err);
  }
  LinkPtr created(im.find_link(name));
  if (!created) throw_error(what + ": device vanished right after creation");
  return to_link_info(created.get());
}

std::optional<VxlanSettings> Netlink::vxlan_settings(const std::string& name) {
  std::lock_guard lk(impl_->mu);
  LinkPtr l(impl_->find_link(name));
  if (!l) return std::nullopt;
  const char* kind = rtnl_link_get_type(l.get());
  if (!kind || std::string(kind) != "vxlan") return std::nullopt;
  VxlanSettings s;
  s.external = rtnl_link_vxlan_get_collect_metadata(l.get()) > 0;
  s.learning = rtnl_link_vxlan_get_learning(l.get()) > 0;
  uint32_t port = 0;
  if (rtnl_link_vxlan_get_port(l.get(), &port) == 0) s.dst_port = static_cast<uint16_t>(port);
  return s;
}

}  // namespace cpp
