#!/usr/bin/env bash
# Installs, when missing, the Debian packages the kernel lab (tests/lab/launch.ts) needs. Idempotent: a host that
# has them all is left alone, without even an `apt-get update`. Run as root; .ci/run calls it on clean machines.
set -euo pipefail

# What each package is for:
#   qemu-system-x86     the emulator that boots the guest
#   linux-image-amd64   a kernel with IPVS (and the rest) as modules; the host's own kernel has none
#   busybox-static      the guest's PID 1 and tools in the initramfs (statically linked: it has no libc)
#   kmod                modprobe --show-depends plans the module loads; modprobe in the guest loads more
#   xz-utils zstd       unpack the kernel image once (faster boots) and compressed modules, if any
#   ipvsadm             the independent oracle lab tests compare the kernel's IPVS table with
#   iproute2            ip netns / veth / dummy for the test topologies, ss for server readiness
#   socat               TCP and UDP test servers and clients inside namespaces
#   libnl-3-200 libnl-genl-3-200   the netlink libraries lbctl's IPVS transport opens through bun:ffi
#   prometheus          for promtool, which checks the daemon's metrics (no package ships promtool alone; the
#                       Prometheus service it brings is never started: see policy-rc.d below)
#   frr                 FRR's zebra + vrrpd for the VRRP failover lab test (started by the test, in namespaces)
#   debootstrap         fresh Debian roots for the install.sh tests (tests/install/), cached under .lab-cache/
#   (the shellcheck package) keeps install.sh clean (tests/install/shellcheck.test.ts)
# Real peers of the UDP and HTTP health checks (tests/health/checks/, tests/lab/udp-checks.test.ts), each started
# by the test on a port it chooses (socat is the UDP echo server; busybox-static's httpd is the HTTP server):
#   dnsmasq-base        dnsmasq without its service: the DNS server of the udp_dns tests
#   sip-tester          sipp, as a UAS answering OPTIONS (200, or 503 for the failure case): udp_sip
#   chrony              chronyd serving time on a loopback port (-x: it never touches the clock): udp_ntp. Its
#                       service is never started (policy-rc.d below) and is disabled on systemd hosts
readonly PACKAGES=(
  qemu-system-x86 linux-image-amd64 busybox-static kmod xz-utils zstd
  ipvsadm iproute2 socat libnl-3-200 libnl-genl-3-200 prometheus
  frr debootstrap shellcheck
  dnsmasq-base sip-tester chrony
)
readonly POLICY_RC=/usr/sbin/policy-rc.d
readonly POLICY_RC_BACKUP=/usr/sbin/policy-rc.d.lbctl-lab-backup

log() { printf 'lab setup: %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "lab setup: must run as root (it installs Debian packages)" >&2
  exit 1
fi

is_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

missing=()
for package in "${PACKAGES[@]}"; do
  is_installed "$package" || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} packages already installed; nothing to do"
  exit 0
fi

# Some packages start services when installed on a host that runs an init system. Nothing here needs one, and a
# service must not grab ports or keep running after CI: refuse every start while installing (policy-rc.d, exit 101).
restore_policy() {
  rm -f "$POLICY_RC"
  if [[ -e $POLICY_RC_BACKUP ]]; then mv "$POLICY_RC_BACKUP" "$POLICY_RC"; fi
}
if [[ -e $POLICY_RC ]]; then mv "$POLICY_RC" "$POLICY_RC_BACKUP"; fi
trap restore_policy EXIT
printf '#!/bin/sh\n# Written by tests/lab/setup.sh while it installs packages.\nexit 101\n' >"$POLICY_RC"
chmod 755 "$POLICY_RC"

export DEBIAN_FRONTEND=noninteractive
# The guest boots from its own initramfs, so the host needs none for the lab kernel: skip building it.
export INITRD=No
# Wait for another apt or dpkg (unattended upgrades, an install still finishing) instead of failing.
readonly APT_OPTIONS=(-o DPkg::Lock::Timeout=600 -q)

log "installing ${missing[*]}"
apt-get "${APT_OPTIONS[@]}" update
apt-get "${APT_OPTIONS[@]}" install -y --no-install-recommends "${missing[@]}"
log "installed ${#missing[@]} package(s): ${missing[*]}"

# prometheus is here for promtool only: on a host run by systemd, keep its service from starting at the next boot
# too (it would take port 9090, lbctl's default metrics port).
if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
  systemctl disable prometheus.service >/dev/null 2>&1 || true
  log "disabled prometheus.service (only promtool is needed)"
fi

# chrony is here for chronyd as a test NTP server: on a systemd host its service must not start at the next boot
# (it would bind udp/123 and try to steer the clock).
if [[ " ${missing[*]} " == *" chrony "* && -d /run/systemd/system ]]; then
  systemctl disable chrony.service >/dev/null 2>&1 || true
  log "disabled chrony.service (tests start chronyd themselves)"
fi
