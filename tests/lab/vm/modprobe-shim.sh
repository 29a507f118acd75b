#!/bin/sh
# /sbin/modprobe of the initramfs. When the kernel needs a module (an IPVS scheduler or persistence engine, a
# netfilter helper, a link type) it runs /sbin/modprobe resolved in the initramfs, which has only the boot
# modules. The guest root is the host's root filesystem with every module of this kernel: load it from there.
exec chroot /newroot /sbin/modprobe "$@"
