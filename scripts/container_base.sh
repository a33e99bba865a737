#!/bin/sh
# Make a local Python base image for the container test (make container-test), without pulling one.
#
#   scripts/container_base.sh [PYTHON_VERSION] [TAG]
#
# debootstraps a minimal Debian whose own python3 is PYTHON_VERSION (3.11: bookworm, 3.13: trixie),
# with python3-venv and pip, and imports it into podman as TAG (default
# localhost/shipyard-python-base:PYTHON_VERSION). The generated Dockerfile expects the layout of
# python:<ver>-slim: `python` and `pip` on PATH, groupadd/useradd, C.UTF-8. Debian has python3 in
# /usr/bin, so `python`/`pip` symlinks are added in /usr/local/bin (where the slim image has them).
# Does nothing when TAG already exists. Needs debootstrap and podman; debootstrap runs as root (with
# sudo when called by another user, whose own podman then imports the image). DEBIAN_MIRROR overrides
# the mirror (default http://deb.debian.org/debian).
set -eu

PY_VERSION="${1:-3.11}"
TAG="${2:-localhost/shipyard-python-base:${PY_VERSION}}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

case "$PY_VERSION" in
    3.11) SUITE=bookworm ;;
    3.13) SUITE=trixie ;;
    *) echo "container_base.sh: no Debian release ships Python $PY_VERSION as python3 (3.11: bookworm, 3.13: trixie);" \
            "build with --build-arg BASE_IMAGE=<your mirror of python:$PY_VERSION-slim> instead" >&2
       exit 2 ;;
esac

if podman image exists "$TAG"; then
    echo "container_base.sh: $TAG already exists"
    exit 0
fi

AS_ROOT=""
[ "$(id -u)" -eq 0 ] || AS_ROOT=sudo
ROOTFS="$(mktemp -d /var/tmp/shipyard-base.XXXXXX)"
trap '$AS_ROOT rm -rf "$ROOTFS"' EXIT
trap 'exit 130' INT TERM

echo "container_base.sh: debootstrap $SUITE (python3 = $PY_VERSION) into $ROOTFS"
$AS_ROOT debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates,passwd \
    "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || { tail -30 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; exit 1; }
rm -f "$ROOTFS.log"

ACTUAL="$($AS_ROOT chroot "$ROOTFS" /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$ACTUAL" != "$PY_VERSION" ]; then
    echo "container_base.sh: $SUITE has Python $ACTUAL, not $PY_VERSION" >&2
    exit 1
fi

# python:<ver>-slim layout: python, python3, pip on PATH in /usr/local/bin.
$AS_ROOT mkdir -p "$ROOTFS/usr/local/bin"
$AS_ROOT ln -sf /usr/bin/python3 "$ROOTFS/usr/local/bin/python"
$AS_ROOT ln -sf /usr/bin/python3 "$ROOTFS/usr/local/bin/python$PY_VERSION"
$AS_ROOT ln -sf /usr/bin/pip3 "$ROOTFS/usr/local/bin/pip"
# Debian marks its python EXTERNALLY-MANAGED (PEP 668); a slim image does not. The Dockerfile installs
# into its own venv, but keep `pip install` behaving as in the slim image.
$AS_ROOT sh -c 'rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' sh "$ROOTFS"
# Smaller image: no apt lists, caches, docs or locales.
$AS_ROOT sh -c 'cd "$1" && rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb \
    usr/share/doc/* usr/share/man/* usr/share/locale/* tmp/*' sh "$ROOTFS"

$AS_ROOT tar -C "$ROOTFS" --numeric-owner -c . | podman import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "ENV PYTHON_VERSION=$PY_VERSION" \
    --change 'CMD ["python3"]' \
    --message "shipyard container test base: debian $SUITE, python $PY_VERSION" \
    - "$TAG" >/dev/null
echo "container_base.sh: made $TAG ($(podman image inspect --format '{{.Size}}' "$TAG") bytes)"
