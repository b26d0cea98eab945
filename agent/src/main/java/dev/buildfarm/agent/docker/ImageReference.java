package dev.buildfarm.agent.docker;

/**
 * An image reference split the way the engine's pull API wants it: repository, and a tag or digest.
 * "busybox" is "docker.io/library/busybox:latest"; "127.0.0.1:5000/x/y@sha256:..." keeps the digest.
 */
public record ImageReference(String repository, String tag, String digest) {

    public static ImageReference parse(String reference) {
        String rest = reference;
        String digest = "";
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
        }
        String tag = "";
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            tag = "latest";
        }
        return new ImageReference(rest, tag, digest);
    }

    public String tagOrDigest() {
        return digest.isEmpty() ? tag : digest;
    }

    @Override
    public String toString() {
        return digest.isEmpty() ? repository + ":" + tag : repository + "@" + digest;
    }
}
