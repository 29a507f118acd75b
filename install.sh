#!/usr/bin/env bash
# lbctl installer: https://github.com/libraflux/lbctl (docs/install.md)
#
#   curl -fsSL URL/install.sh | sudo bash -s -- [FLAGS]      download, verify against SHA256SUMS, install
#   sudo ./install.sh [FLAGS]                                from a copied folder (uses lbctl-linux-ARCH beside it)
#   sudo ./install.sh --binary ./lbctl-linux-x64             air-gapped: no download at all
#
# Flags: --binary PATH, --version X.Y.Z, --dry-run, --uninstall, --skip-frr, --help
# Environment: LBCTL_DOWNLOAD_URL (default below).
#
# It places /usr/local/bin/lbctl, /etc/systemd/system/lbctl.service, the man page lbctl(8) in
# /usr/local/share/man/man8, the bash completion in /usr/share/bash-completion/completions, /etc/modules-load.d/lbctl.conf (when absent),
# /etc/lbctl/config.yaml and /etc/lbctl/config.d/ (when absent: an operator's config is never overwritten). It never
# starts the service. Exit 0 on success, 1 on failure (with nothing half-installed), 2 on a usage error.

# Everything runs from main() at the end, so a truncated `curl | bash` download runs nothing.
set -euo pipefail

readonly DEFAULT_DOWNLOAD_URL="https://github.com/libraflux/lbctl/releases/latest/download"
readonly BIN=/usr/local/bin/lbctl
readonly UNIT=/etc/systemd/system/lbctl.service
readonly MODULES_LOAD=/etc/modules-load.d/lbctl.conf
readonly MAN_PAGE=/usr/local/share/man/man8/lbctl.8
readonly BASH_COMPLETION=/usr/share/bash-completion/completions/lbctl
readonly CONFIG_DIR=/etc/lbctl
readonly STATE_DIR=/var/lib/lbctl
readonly FRR_DAEMONS=/etc/frr/daemons

binary=""
version=""
dry_run=0
uninstall=0
skip_frr=0
work=""
# Paths this run created or replaced, for the rollback on failure.
created=()
replaced_binary=0
committed=0

say() { printf 'lbctl install: %s\n' "$*"; }
warn() { printf 'lbctl install: WARNING: %s\n' "$*" >&2; }
die() {
  printf 'lbctl install: ERROR: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'lbctl install: %s (see --help)\n' "$*" >&2
  exit 2
}

usage() {
  cat <<'EOF'
Usage: install.sh [--binary PATH] [--version X.Y.Z] [--dry-run] [--uninstall] [--skip-frr]

  --binary PATH     install this lbctl binary (air-gapped: nothing is downloaded)
  --version X.Y.Z   download this release instead of the latest
  --dry-run         print each step without doing it
  --uninstall       stop and disable the service, remove the binary, unit, man page, bash completion and modules-load file; keep /etc/lbctl
  --skip-frr        do not install FRR or enable its vrrpd
  LBCTL_DOWNLOAD_URL  where lbctl-linux-ARCH and SHA256SUMS are (default: the project's releases)
EOF
}

# Runs a command, or only prints it with --dry-run.
step() {
  if ((dry_run)); then
    printf '[dry-run] %s\n' "$*"
  else
    "$@"
  fi
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --binary)
        (($# >= 2)) || usage_error "--binary needs a path"
        binary=$2
        shift 2
        ;;
      --binary=*) binary=${1#*=}; shift ;;
      --version)
        (($# >= 2)) || usage_error "--version needs X.Y.Z"
        version=$2
        shift 2
        ;;
      --version=*) version=${1#*=}; shift ;;
      --dry-run) dry_run=1; shift ;;
      --uninstall) uninstall=1; shift ;;
      --skip-frr) skip_frr=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option $1" ;;
    esac
  done
  version=${version#v}
  if [[ -n $version && ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then usage_error "--version wants X.Y.Z, got $version"; fi
  if [[ -n $binary && -n $version ]]; then usage_error "--binary and --version exclude each other"; fi
}

have() { command -v "$1" >/dev/null 2>&1; }

systemd_running() { [[ -d /run/systemd/system ]] && have systemctl; }

# x64, x64-baseline (x86-64 without AVX2) or arm64.
detect_arch() {
  case $(uname -m) in
    x86_64 | amd64)
      if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then echo x64; else echo x64-baseline; fi
      ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "unsupported CPU architecture $(uname -m): lbctl is built for x86-64 and arm64" ;;
  esac
}

# apt (Debian/Ubuntu) or dnf/yum (RHEL/Alma/Rocky/Fedora), from os-release and what is installed.
detect_package_manager() {
  local id="" like=""
  if [[ -r /etc/os-release ]]; then
    # shellcheck source=/dev/null
    id=$(. /etc/os-release && echo "${ID:-}")
    # shellcheck source=/dev/null
    like=$(. /etc/os-release && echo "${ID_LIKE:-}")
  fi
  case " $id $like " in
    *" debian "* | *" ubuntu "*) have apt-get && { echo apt; return; } ;;
    *" rhel "* | *" fedora "* | *" centos "* | *" almalinux "* | *" rocky "*)
      if have dnf; then echo dnf; return; fi
      if have yum; then echo yum; return; fi
      ;;
  esac
  if have apt-get; then echo apt; elif have dnf; then echo dnf; elif have yum; then echo yum; else echo none; fi
}

# Installs packages, returning non-zero instead of exiting (offline hosts go on with a warning).
install_packages() {
  local manager=$1
  shift
  if ((dry_run)); then
    printf '[dry-run] install packages with %s: %s\n' "$manager" "$*"
    return 0
  fi
  case $manager in
    apt)
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >/dev/null 2>&1 ||
        { DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null >/dev/null 2>&1; }
      ;;
    dnf | yum) "$manager" install -y -q "$@" </dev/null >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

download() {
  local url=$1 out=$2
  if have curl; then
    curl -fsSL --retry 2 -o "$out" "$url"
  elif have wget; then
    wget -q -O "$out" "$url"
  else
    die "neither curl nor wget is installed: install one, or copy the binary here and use --binary PATH"
  fi
}

# Checks $1 against the line for $2 in the SHA256SUMS file $3.
verify_checksum() {
  local file=$1 name=$2 sums=$3 expected actual
  expected=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$sums")
  [[ -n $expected ]] || die "SHA256SUMS has no line for $name: nothing was installed"
  have sha256sum || die "sha256sum is missing (coreutils): cannot verify $name, nothing was installed"
  actual=$(sha256sum "$file" | awk '{ print $1 }')
  [[ $actual == "$expected" ]] || die "checksum mismatch for $name: expected $expected, got $actual. Nothing was installed"
  say "checksum of $name verified ($actual)"
}

# Puts a verified binary at $work/lbctl (nothing is installed yet).
obtain_binary() {
  local arch name base script_dir
  arch=$(detect_arch)
  name="lbctl-linux-$arch"
  script_dir=""
  # Run from a file (not `curl | bash`): a binary beside the script is a copied release folder.
  if [[ -n ${BASH_SOURCE[0]:-} && -f ${BASH_SOURCE[0]} ]]; then script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); fi
  if [[ -z $binary && -z $version && -n $script_dir && -f $script_dir/$name ]]; then
    binary=$script_dir/$name
    say "using $binary from the script's folder"
  fi
  if [[ -n $binary ]]; then
    [[ -f $binary ]] || die "--binary $binary: no such file"
    base=$(basename "$binary")
    if [[ -f $(dirname "$binary")/SHA256SUMS ]] && grep -q "[ *]$base\$" "$(dirname "$binary")/SHA256SUMS"; then
      verify_checksum "$binary" "$base" "$(dirname "$binary")/SHA256SUMS"
    fi
    # Checked in the private folder with --dry-run too: a dry run says what a real run would refuse.
    cp "$binary" "$work/lbctl"
  else
    local url=${LBCTL_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}
    url=${url%/}
    if [[ -n $version ]]; then url="$url/v$version"; fi
    if ((dry_run)); then
      printf '[dry-run] download %s/%s and %s/SHA256SUMS, verify the checksum\n' "$url" "$name" "$url"
      return
    fi
    say "downloading $url/$name"
    download "$url/SHA256SUMS" "$work/SHA256SUMS" || die "cannot download $url/SHA256SUMS: nothing was installed (offline? use --binary PATH)"
    download "$url/$name" "$work/$name" || die "cannot download $url/$name: nothing was installed (offline? use --binary PATH)"
    verify_checksum "$work/$name" "$name" "$work/SHA256SUMS"
    mv "$work/$name" "$work/lbctl"
  fi
  chmod 0755 "$work/lbctl"
  # An ELF executable, before anything runs it: bash would run any other file as a shell script.
  local magic
  magic=$(head -c 4 "$work/lbctl" | od -An -tx1 | tr -d ' \n')
  [[ $magic == 7f454c46 ]] || die "${binary:-the download} is not an executable (ELF) file: nothing was installed"
  local reported
  reported=$("$work/lbctl" --version 2>/dev/null) || die "$binary does not run on this host ($(uname -m)): wrong architecture or a damaged file. Nothing was installed"
  [[ $reported == lbctl\ * ]] || die "the binary printed \"$reported\" for --version, not lbctl: nothing was installed"
  if [[ -n $version && $reported != "lbctl $version" ]]; then die "asked for $version but the download is $reported: nothing was installed"; fi
  say "binary ok: $reported"
  if ((dry_run)); then printf '[dry-run] install %s as %s\n' "$binary" "$BIN"; fi
}

# True when the dynamic linker can find libnl-genl-3: its cache (ldconfig lives in /sbin, which a minimal PATH may
# lack), or the library file in the usual folders.
have_libnl() {
  local ldconfig
  ldconfig=$(command -v ldconfig || true)
  [[ -z $ldconfig && -x /sbin/ldconfig ]] && ldconfig=/sbin/ldconfig
  if [[ -n $ldconfig ]] && "$ldconfig" -p 2>/dev/null | grep -q 'libnl-genl-3\.so\.200'; then return 0; fi
  compgen -G '/usr/lib*/libnl-genl-3.so.200' >/dev/null || compgen -G '/usr/lib/*/libnl-genl-3.so.200' >/dev/null ||
    compgen -G '/lib*/libnl-genl-3.so.200' >/dev/null || compgen -G '/lib/*/libnl-genl-3.so.200' >/dev/null
}

install_libnl() {
  local manager=$1
  if have_libnl; then
    say "libnl-genl-3 is installed"
    return
  fi
  local packages=()
  case $manager in
    apt) packages=(libnl-3-200 libnl-genl-3-200) ;;
    dnf | yum) packages=(libnl3) ;;
    *) warn "no known package manager: install libnl-genl-3 yourself (lbctl needs it to talk to IPVS)"; return ;;
  esac
  say "installing ${packages[*]}"
  install_packages "$manager" "${packages[@]}" ||
    warn "could not install ${packages[*]} (offline?): lbctl needs it to program IPVS; install the package ${packages[*]} later. Installing anyway"
}

# Remembers a path that did not exist before this run, for the rollback.
note_new() {
  if [[ ! -e $1 ]]; then created+=("$1"); fi
}

install_binary() {
  if ((dry_run)); then return; fi
  if [[ -f $BIN ]] && cmp -s "$work/lbctl" "$BIN"; then
    say "$BIN is already this binary"
    return
  fi
  if [[ -f $BIN ]]; then
    cp -p "$BIN" "$work/lbctl.previous"
    replaced_binary=1
  else
    note_new "$BIN"
  fi
  mkdir -p "$(dirname "$BIN")"
  # Same folder, then rename: the old binary is replaced whole, never half-written.
  install -m 0755 "$work/lbctl" "$BIN.new"
  mv -f "$BIN.new" "$BIN"
  say "installed $BIN"
}

install_files() {
  note_new "$UNIT"
  note_new "$MODULES_LOAD"
  note_new "$CONFIG_DIR/config.yaml"
  note_new "$MAN_PAGE"
  if ((dry_run)) && [[ -x $work/lbctl ]]; then
    # The checked binary says exactly what it would write.
    printf '[dry-run] lbctl setup files:\n'
    "$work/lbctl" setup files --dry-run | sed 's/^/  /'
  elif ((dry_run)); then
    printf '[dry-run] lbctl setup files   (%s, %s, %s when absent, %s/config.yaml when absent, %s/config.d/)\n' "$UNIT" "$MAN_PAGE" "$MODULES_LOAD" "$CONFIG_DIR" "$CONFIG_DIR"
  else
    "$BIN" setup files | sed 's/^/  /'
  fi
  step mkdir -p -m 0750 "$STATE_DIR"
}

# Where bash-completion looks on Debian and RHEL alike; it takes effect in new shells once bash-completion is installed.
install_completion() {
  note_new "$BASH_COMPLETION"
  if ((dry_run)); then
    printf '[dry-run] lbctl completion bash > %s\n' "$BASH_COMPLETION"
    return
  fi
  mkdir -p "$(dirname "$BASH_COMPLETION")"
  "$BIN" completion bash >"$BASH_COMPLETION.new"
  chmod 0644 "$BASH_COMPLETION.new"
  mv -f "$BASH_COMPLETION.new" "$BASH_COMPLETION"
  say "installed the bash completion $BASH_COMPLETION"
}

install_frr() {
  local manager=$1
  if ((skip_frr)); then
    say "--skip-frr: FRR left alone"
    return
  fi
  if [[ ! -x /usr/lib/frr/vrrpd && ! -x /usr/libexec/frr/vrrpd ]]; then
    say "installing FRR (for VRRP)"
    if ! install_packages "$manager" frr; then
      warn "could not install the frr package (offline, or not in the configured repositories; RHEL needs EPEL): VRRP through FRR is unavailable until it is installed. keepalived works too"
      return
    fi
  else
    say "FRR is installed"
  fi
  if ((dry_run)); then
    printf '[dry-run] set vrrpd=yes in %s\n' "$FRR_DAEMONS"
    return
  fi
  if [[ ! -f $FRR_DAEMONS ]]; then
    warn "$FRR_DAEMONS does not exist: enable vrrpd in FRR yourself"
    return
  fi
  if grep -q '^vrrpd=yes' "$FRR_DAEMONS"; then
    say "FRR's vrrpd is enabled"
  else
    if grep -q '^vrrpd=' "$FRR_DAEMONS"; then sed -i 's/^vrrpd=.*/vrrpd=yes/' "$FRR_DAEMONS"; else echo 'vrrpd=yes' >>"$FRR_DAEMONS"; fi
    say "enabled vrrpd in $FRR_DAEMONS (it starts with FRR's next restart: systemctl restart frr). VRRP itself is configured by lbctl setup frr"
  fi
}

enable_unit() {
  if systemd_running; then
    step systemctl daemon-reload
    step systemctl enable lbctl.service
    say "the lbctl service is enabled but NOT started"
  else
    say "no running systemd here (a chroot or a container): the service was NOT enabled"
  fi
}

rollback() {
  local status=$?
  if ((committed || dry_run || status == 0)); then return; fi
  warn "installation failed: undoing this run's changes"
  if ((replaced_binary)) && [[ -f $work/lbctl.previous ]]; then mv -f "$work/lbctl.previous" "$BIN"; fi
  local path
  for path in "${created[@]}"; do rm -f "$path"; done
}

cleanup() {
  rollback
  if [[ -n $work && -d $work ]]; then rm -rf "$work"; fi
}

print_doctor_and_next_steps() {
  if ((dry_run)); then
    printf '[dry-run] lbctl doctor\n'
    return
  fi
  echo
  say "lbctl doctor says:"
  "$BIN" doctor || true
  cat <<EOF

Next steps:
  1. Edit $CONFIG_DIR/config.yaml (node.name, node.role, network.frontend.vip and interfaces).
  2. Add services in $CONFIG_DIR/config.d/*.yaml (see $CONFIG_DIR/examples/), then: lbctl validate
  3. Kernel settings and boot modules: lbctl setup sysctl
  4. VRRP with FRR (optional): add a vrrp section, then lbctl setup frr
  5. Preview, then start:  lbctl apply --dry-run && systemctl enable --now lbctl
  6. Check again: lbctl doctor; metrics on the configured port (default 127.0.0.1:9090/metrics)
EOF
}

do_install() {
  local manager
  manager=$(detect_package_manager)
  say "package manager: $manager"
  obtain_binary
  install_libnl "$manager"
  install_binary
  install_files
  install_completion
  install_frr "$manager"
  enable_unit
  committed=1
  print_doctor_and_next_steps
  say "done"
}

do_uninstall() {
  if systemd_running; then
    step systemctl disable --now lbctl.service 2>/dev/null || true
  else
    say "no running systemd here: nothing to stop"
  fi
  local path removed=0
  for path in "$BIN" "$UNIT" "$MAN_PAGE" "$BASH_COMPLETION" "$MODULES_LOAD"; do
    if [[ -e $path ]]; then
      step rm -f "$path"
      say "removed $path"
      removed=1
    fi
  done
  if ((removed)) && systemd_running; then step systemctl daemon-reload; fi
  ((removed)) || say "lbctl was not installed: nothing removed"
  say "left in place:"
  local kept=0
  for path in "$CONFIG_DIR" "$STATE_DIR" /etc/sysctl.d/99-lbctl.conf /etc/modprobe.d/lbctl.conf; do
    if [[ -e $path ]]; then
      printf '  %s\n' "$path"
      kept=1
    fi
  done
  if [[ -f /etc/frr/frr.conf ]] && grep -q '^! BEGIN LBCTL MANAGED' /etc/frr/frr.conf; then
    printf '  %s\n' "the lbctl block in /etc/frr/frr.conf (between its ! BEGIN/END LBCTL MANAGED lines)"
    kept=1
  fi
  if [[ -s /proc/net/ip_vs ]] && (($(wc -l </proc/net/ip_vs) > 3)); then
    printf '  %s\n' "the IPVS rules in the kernel (the daemon leaves them on stop; lbctl disable removes them)"
    kept=1
  fi
  ((kept)) || printf '  nothing\n'
}

main() {
  parse_args "$@"
  if ((!dry_run)) && [[ $(id -u) -ne 0 ]]; then die "run as root (sudo bash install.sh ...), or with --dry-run to see the steps"; fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/lbctl-install.XXXXXX")
  trap cleanup EXIT
  if ((uninstall)); then do_uninstall; else do_install; fi
}

main "$@"
