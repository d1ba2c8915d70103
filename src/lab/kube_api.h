#pragma once
// The lab's Kubernetes API in --k8s mode: cpp-kube-apiserver-fixture in a
// namespace of its own on the underlay (192.0.2.9), HTTPS with a CA made at
// `up` and a bearer token, and a kubeconfig for agents and the user.
#include <memory>
#include <string>

#include "k8s/client/kube_client.h"
#include "lab/state.h"

namespace cpp::lab {

inline constexpr const char* kKubeApiIpv4 = "192.0.2.9";
inline constexpr int kKubeApiPort = 6443;
// Plain HTTP, /fixture/ endpoints only (stays up while the API is "down").
inline constexpr int kKubeApiControlPort = 6444;

// Makes the CA, the server's certificate and token, writes
// lab.kubeconfig_path(), starts the server and waits until it answers.
// Records it in lab.kubeapi. Throws with the server's log tail on failure.
void start_kube_apiserver(LabState& lab, int timeout_s);

// A client for the lab's API (from the lab's kubeconfig); the caller must be
// on the underlay (enter_underlay).
std::shared_ptr<k8s::KubeClient> lab_kube_client(const LabState& lab);

}  // namespace cpp::lab
