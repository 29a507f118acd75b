#!/usr/bin/env bash
# Installs, when missing, the Debian packages the tests need (the kernel lab, its tools and the real peers of the
# health checks), listed with what each is for in tests/lab/packages.txt. Idempotent: a host that has them all is
# left alone, without even an `apt-get update`. Run as root. `npm test` and `npm run demo` run it when something is
# missing (tests/lab/vm/packages.ts), and so does CI through `npm test`; it can also be run by hand.
#
# Some packages bring a service nobody here wants running: prometheus (only promtool is used) and chrony (the
# tests start chronyd themselves on a loopback port). No service starts while installing (policy-rc.d below), and
# on a systemd host they are disabled afterwards.
set -euo pipefail

LIST="$(dirname "$0")/packages.txt"
readonly LIST
PACKAGES=()
declare -A WHY=()
while read -r package why; do
  [[ -z $package || $package == \#* ]] && continue
  PACKAGES+=("$package")
  WHY[$package]=$why
done <"$LIST"
readonly PACKAGES

# --list: the packages as read above, one a line (tests check it against tests/lab/vm/packages.ts's reading).
if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi
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

log "installing ${#missing[@]} missing Debian package(s) the tests need (list: tests/lab/packages.txt):"
for package in "${missing[@]}"; do printf '  %-18s %s\n' "$package" "${WHY[$package]}"; done
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

# keepalived is the benchmarks' peer, started by them in the lab guest: on a systemd host its service must not start
# at the next boot (it would program IPVS and VRRP from /etc/keepalived).
if [[ " ${missing[*]} " == *" keepalived "* && -d /run/systemd/system ]]; then
  systemctl disable keepalived.service >/dev/null 2>&1 || true
  log "disabled keepalived.service (the benchmarks start keepalived themselves)"
fi
