#!/bin/sh
# Builds the services' container base image without Docker and without a container registry: a minimal Debian 12
# (bookworm) with OpenJDK 17 JRE, from Debian packages (debootstrap), written as a `docker save`-format tarball that
# Jib takes as its base image (tar://...). Needs root (debootstrap chroots) and access to a Debian mirror.
#
#   sudo k8s/image/make-base-image.sh [out.tar]      # default: k8s/image/target/debian12-jre17.tar
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/target/debian12-jre17.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$out")"

debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates bookworm "$work/rootfs" "$mirror"
# The services run as an unprivileged user (the manifests set runAsUser 10001 and runAsNonRoot).
chroot "$work/rootfs" groupadd --gid 10001 iiot
chroot "$work/rootfs" useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin iiot
# the images' working directory: relative data directories of the services land here
install -d -o 10001 -g 10001 -m 0750 "$work/rootfs/var/lib/iiot"
# Package caches and docs are not needed at run time.
rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"* \
  "$work/rootfs/usr/share/doc/"* "$work/rootfs/usr/share/man/"* "$work/rootfs/usr/share/locale/"*
# debootstrap copies the host's resolv.conf; the container runtime provides its own.
rm -f "$work/rootfs/etc/resolv.conf"

mkdir "$work/image"
tar --numeric-owner --xattrs -C "$work/rootfs" -cf "$work/image/layer.tar" .
python3 - "$work/image" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
h = hashlib.sha256()
with open(os.path.join(d, "layer.tar"), "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
config = {
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64", "LANG=C.UTF-8"],
        "User": "10001:10001",
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h.hexdigest()]},
    "history": [{"created_by": "k8s/image/make-base-image.sh: debootstrap bookworm + openjdk-17-jre-headless"}],
}
raw = json.dumps(config, sort_keys=True).encode()
name = hashlib.sha256(raw).hexdigest() + ".json"
with open(os.path.join(d, name), "wb") as f:
    f.write(raw)
with open(os.path.join(d, "manifest.json"), "w") as f:
    json.dump([{"Config": name, "RepoTags": ["iiot/debian12-jre17:local"], "Layers": ["layer.tar"]}], f)
PY
# entries at the top level, without a "./" entry (Jib refuses archive entries that leave or name the destination)
(cd "$work/image" && tar -cf "$out" -- *)
echo "base image written to $out ($(du -h "$out" | cut -f1))"
