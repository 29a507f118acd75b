#!/bin/sh
# PID 1 of the kernel-lab guest: busybox sh, from the initramfs that tests/lab/vm/initramfs.ts builds.
#
# Loads the modules listed in /etc/lab-modules, makes the host's root filesystem the guest's root as an overlay
# (read-only 9p lower, tmpfs upper: the guest can write anywhere while the host stays untouched, and a checkout
# under the host's /tmp stays visible), runs /run/lbctl-lab/job.sh (written by the host) in it, writes the exit
# status into the job share and reboots, which qemu's -no-reboot turns into qemu exiting.
#
# Serial ports: ttyS0 is the host's stdout, so the command's output is framed by begin/end markers carrying a
# per-run nonce (the firmware writes there too, and the host keeps only what lies between the markers). ttyS1 is
# the host's stderr: the command's stderr and this script's diagnostics. The kernel console is elsewhere (qemu.ts).
export PATH=/bin
# shellcheck disable=SC2154 # set by the kernel: unknown key=value boot parameters become init's environment
nonce=$lbctl_lab_nonce

mount -t devtmpfs devtmpfs /dev
exec 3<>/dev/ttyS1 4<>/dev/ttyS0
# Raw ttys: no \n -> \r\n translation and no echo, so output reaches the host byte for byte.
stty raw -echo <&3
stty raw -echo <&4
exec 2>&3
mount -t proc proc /proc
mount -t sysfs sysfs /sys

proc=/proc
diag() { echo "lbctl lab guest: $*" >&3; }
# With --verbose the host passes lbctl_lab_verbose=1: say when each boot step ended.
trace() {
	[ -n "$lbctl_lab_verbose" ] || return 0
	read -r uptime _ <"$proc/uptime"
	diag "${uptime}s $*"
}
power_off() {
	# With qemu's -no-reboot a reboot ends qemu at once; it needs no ACPI, unlike a power-off.
	reboot -f
}
fail() {
	diag "$*"
	power_off
}
trace "init started"

# One process for all modules (see initramfs.ts); then name the first that is missing, if any.
# shellcheck disable=SC2046 # one module name per line, split on purpose
modprobe -a $(cat /etc/lab-modules)
while read -r module; do
	[ -d "/sys/module/$module" ] || fail "could not load the kernel module $module"
done </etc/lab-modules
trace "modules loaded"

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
	fail "could not mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	fail "could not mount the overlay root"
# The host's /run belongs to its own services; the guest gets a fresh one (ip netns needs /run/netns).
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run
mkdir -p /newroot/run/netns /newroot/run/lbctl-lab
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 labjob /newroot/run/lbctl-lab ||
	fail "could not mount the job share (9p tag labjob)"
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
proc=/newroot/proc
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/dev/shm
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup 2>/dev/null
hostname lbctl-lab
ip link set lo up
echo 1 >/newroot/proc/sys/net/ipv4/ip_forward
trace "root mounted"

# The command writes into pipes, not the serial ttys, so it sees what it would see under CI (no tty). It runs in
# its own session so that whatever it leaves running can be told apart from this script and the pumps and be
# stopped: a leftover server would otherwise hold the pipes open and the run would never end.
stop_leftovers() {
	for stat_file in /newroot/proc/[0-9]*/stat; do
		read -r stat <"$stat_file" 2>/dev/null || continue
		# Fields after the command name: state ppid pgrp session ...
		# shellcheck disable=SC2086 # split on purpose
		set -- ${stat##*) }
		pid=${stat_file%/stat}
		[ "$4" = 0 ] || kill -9 "${pid##*/}" 2>/dev/null
	done
}
run_job() {
	setsid env -i chroot /newroot /bin/sh /run/lbctl-lab/job.sh </newroot/dev/null
	echo $? >/job-status
	stop_leftovers
}
echo "<<lbctl-lab:begin:${nonce}>>" >&4
{ run_job 2>&1 1>&5 5>&- | cat >&3; } 5>&1 | cat >&4
read -r status </job-status || status=125

echo "$status" >/newroot/run/lbctl-lab/status
echo "<<lbctl-lab:end:${nonce}>>" >&4
# tcsetattr(TCSADRAIN) returns once the serial ports have sent everything queued.
stty raw -echo <&4
stty raw -echo <&3
power_off
