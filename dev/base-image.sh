#!/usr/bin/env bash
# Publishes $BASE_IMAGE (127.0.0.1:5000/library/busybox:latest) as one OCI image index of
# linux/amd64, linux/arm64, linux/arm/v7 and linux/arm/v6, made from Debian's busybox-static
# packages and pushed with plain registry API calls: no Docker Hub, no docker build, no QEMU needed.
# Layers are deterministic, so the same packages always give the same digests.
# Needs: the registry up, foreign architectures arm64/armhf/armel known to apt (dev/stack.sh install).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
umask 022
API="http://$REGISTRY/v2/library/busybox"
W="$STACK_DIR/base"
OCI_INDEX=application/vnd.oci.image.index.v1+json
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_CONFIG=application/vnd.oci.image.config.v1+json
OCI_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
# Debian architecture : OCI architecture : OCI variant
PLATFORMS=(amd64:amd64: arm64:arm64: armhf:arm:v7 armel:arm:v6)

log() { echo "[base] $(date +%T) $*"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
deb_of() { ls "$W"/debs/busybox-static_*_"$1".deb | tail -n 1; }
busybox_in() { local f; for f in "$1"/bin/busybox "$1"/usr/bin/busybox; do [[ -f "$f" ]] && { echo "$f"; return; }; done; return 1; }
size() { stat -c %s "$1"; }
# Bump when the image changes, so stacks that hold an older one publish it again.
REVISION=2
index_ok() {
  curl -fsS -H "Accept: $OCI_INDEX" "$API/manifests/latest" 2>/dev/null \
    | jq -e --arg rev "$REVISION" '(.manifests | length == 4) and .annotations["dev.buildfarm.base.revision"] == $rev' >/dev/null
}

# --force publishes again (e.g. after a change here); otherwise skip when the tag is complete.
if [[ "${1:-}" != --force ]] && index_ok; then log "$BASE_IMAGE already published"; exit 0; fi

# 1. The packages (kept, so a re-publish needs no network).
mkdir -p "$W/debs"
need=()
for p in "${PLATFORMS[@]}"; do
  compgen -G "$W/debs/busybox-static_*_${p%%:*}.deb" >/dev/null || need+=("busybox-static:${p%%:*}")
done
if ((${#need[@]})); then
  log "downloading ${need[*]}"
  # Sandbox user root: apt's _apt user may not be able to write into the stack dir.
  get() { (cd "$W/debs" && apt-get download -q -o APT::Sandbox::User=root "${need[@]}"); }
  get || { apt-get update -qq || true; get; }
fi

# 2. The applet list, from the busybox that runs natively here (same build config on every arch).
host="$(dpkg --print-architecture)"
rm -rf "$W/host" && dpkg-deb -x "$(deb_of "$host")" "$W/host"
"$(busybox_in "$W/host")" --list-full >"$W/applets.txt"
mapfile -t APPLETS < <(grep -vx bin/busybox "$W/applets.txt")
((${#APPLETS[@]} > 100)) || { log "ERROR: busybox --list-full gave ${#APPLETS[@]} applets"; exit 1; }
mapfile -t APPLET_DIRS < <(printf '%s\n' "${APPLETS[@]}" | grep / | sed 's|/[^/]*$||' | sort -u)

# 3. Per platform: rootfs -> deterministic layer -> config -> manifest.
push_blob() { # FILE DIGEST: monolithic upload unless the registry has it already
  curl -fsS -o /dev/null -I "$API/blobs/$2" 2>/dev/null && return
  local loc
  loc="$(curl -fsS -X POST -D - -o /dev/null "$API/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')"
  [[ "$loc" == http* ]] || loc="http://$REGISTRY$loc"
  [[ "$loc" == *\?* ]] && loc="$loc&" || loc="$loc?"
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$1" "${loc}digest=$2"
}
push_manifest() { # FILE MEDIATYPE REFERENCE
  curl -fsS -o /dev/null -X PUT -H "Content-Type: $2" --data-binary @"$1" "$API/manifests/$3"
}

entries=()
for p in "${PLATFORMS[@]}"; do
  IFS=: read -r deb arch variant <<<"$p"
  d="$W/$deb"
  rm -rf "$d" && mkdir -p "$d/pkg" "$d/rootfs"
  dpkg-deb -x "$(deb_of "$deb")" "$d/pkg"
  r="$d/rootfs"
  mkdir -p "$r/bin" "$r/etc" "$r/root" "$r/tmp"
  chmod 1777 "$r/tmp"; chmod 700 "$r/root"
  install -m 755 "$(busybox_in "$d/pkg")" "$r/bin/busybox"
  # One symlink per applet, like `busybox --install -s`; perl (Essential on Debian) makes them all in
  # one process instead of ~270 forks of ln.
  (cd "$r" && mkdir -p "${APPLET_DIRS[@]}" &&
    perl -e 'for (@ARGV) { symlink("/bin/busybox", $_) or die "$_: $!\n" }' "${APPLETS[@]}")
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  # Same bytes every time: sorted names, fixed times/owners, no name or time in the gzip header.
  (cd "$r" && LC_ALL=C ls -A | tar --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$d/layer.tar" -T -)
  gzip -n -c "$d/layer.tar" >"$d/layer.tar.gz"
  layer="sha256:$(sha "$d/layer.tar.gz")"
  jq -cj -n --arg arch "$arch" --arg variant "$variant" --arg diff "sha256:$(sha "$d/layer.tar")" \
    '{architecture: $arch, os: "linux"} + (if $variant == "" then {} else {variant: $variant} end)
     + {config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"]},
        rootfs: {type: "layers", diff_ids: [$diff]}, created: "1970-01-01T00:00:00Z",
        history: [{created: "1970-01-01T00:00:00Z", created_by: "busybox-static from Debian"}]}' >"$d/config.json"
  config="sha256:$(sha "$d/config.json")"
  push_blob "$d/layer.tar.gz" "$layer"
  push_blob "$d/config.json" "$config"
  jq -cj -n --arg cd "$config" --argjson cs "$(size "$d/config.json")" \
    --arg ld "$layer" --argjson ls "$(size "$d/layer.tar.gz")" \
    --arg mt "$OCI_MANIFEST" --arg ct "$OCI_CONFIG" --arg lt "$OCI_LAYER" \
    '{schemaVersion: 2, mediaType: $mt, config: {mediaType: $ct, digest: $cd, size: $cs},
      layers: [{mediaType: $lt, digest: $ld, size: $ls}]}' >"$d/manifest.json"
  manifest="sha256:$(sha "$d/manifest.json")"
  # Children first: registry 2.8 rejects an index whose manifests it does not have.
  push_manifest "$d/manifest.json" "$OCI_MANIFEST" "$manifest"
  entries+=("$(jq -c -n --arg mt "$OCI_MANIFEST" --arg dg "$manifest" --argjson sz "$(size "$d/manifest.json")" \
    --arg arch "$arch" --arg variant "$variant" \
    '{mediaType: $mt, digest: $dg, size: $sz,
      platform: ({architecture: $arch, os: "linux"} + (if $variant == "" then {} else {variant: $variant} end))}')")
  log "linux/$arch${variant:+/$variant}: $manifest"
done

# 4. The index, by digest and then as the tag.
printf '%s\n' "${entries[@]}" | jq -cj -s --arg mt "$OCI_INDEX" --arg rev "$REVISION" \
  '{schemaVersion: 2, mediaType: $mt, manifests: ., annotations: {"dev.buildfarm.base.revision": $rev}}' >"$W/index.json"
push_manifest "$W/index.json" "$OCI_INDEX" "sha256:$(sha "$W/index.json")"
push_manifest "$W/index.json" "$OCI_INDEX" latest
index_ok || { log "ERROR: $BASE_IMAGE is not a 4-platform index after the push"; exit 1; }
log "$BASE_IMAGE -> sha256:$(sha "$W/index.json")"
