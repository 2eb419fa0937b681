#!/usr/bin/env bash
# Prepares a Debian/Ubuntu host for pulumi-kairos: installs the system packages, starts libvirtd and
# virtlogd when no init system runs them. With --deploy: only what a deployment needs, and the
# storage pool the default stack uses; without: also what the tests need. Idempotent; needs root
# (uses sudo when not root). Used by the README's commands and .ci/run.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# What a deployment needs: libvirt + qemu (software emulation works; KVM is used when it works),
# qemu-img, xorriso for cidata ISOs, the OpenSSH client (nodes, qemu+ssh://) and OVMF for UEFI.
PACKAGES=(
  qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients dnsmasq-base
  xorriso ovmf openssh-client procps
)
# What only the tests need (not installed with --deploy): an OpenSSH server for the live-host and
# qemu+ssh tests, useradd, openssl (client certificates with a chosen end), and what the stand-in
# guest is built from (Debian's kernel package, busybox, syslinux on a FAT image). linux-image-amd64 is Debian's name; Ubuntu's is linux-image-generic.
TEST_PACKAGES=(
  openssh-server iproute2 passwd openssl
  linux-image-amd64 busybox-static syslinux syslinux-common mtools dosfstools kmod cpio
)
[ "${1:-}" = "--deploy" ] || PACKAGES+=("${TEST_PACKAGES[@]}")
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-host: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Containers and CI machines have no systemd: start the daemons by hand when they are not running.
pgrep -x virtlogd >/dev/null || $SUDO virtlogd -d
pgrep -x libvirtd >/dev/null || $SUDO libvirtd -d
for _ in $(seq 1 30); do $SUDO virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
$SUDO virsh -c qemu:///system version >/dev/null || { echo "setup-host: libvirtd does not answer on qemu:///system" >&2; exit 1; }

if [ "${1:-}" = "--deploy" ]; then
  # The default stack puts its volumes in the libvirt pool "default" (a directory pool).
  if ! $SUDO virsh -c qemu:///system pool-info default >/dev/null 2>&1; then
    $SUDO virsh -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
    $SUDO virsh -c qemu:///system pool-build default >/dev/null
  fi
  $SUDO virsh -c qemu:///system pool-start default >/dev/null 2>&1 || true
  $SUDO virsh -c qemu:///system pool-autostart default >/dev/null
fi
echo "setup-host: ready"
