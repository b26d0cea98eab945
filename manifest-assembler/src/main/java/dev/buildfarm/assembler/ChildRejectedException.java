package dev.buildfarm.assembler;

/** A child is not in the registry as submitted (missing, wrong digest, wrong platform, not an image). */
public class ChildRejectedException extends RuntimeException {
    private final String child;

    /** @param child names the child, e.g. "linux/arm/v7 sha256:…" */
    public ChildRejectedException(String child, String reason, Throwable cause) {
        super("child " + child + ": " + reason, cause);
        this.child = child;
    }

    public String child() {
        return child;
    }
}
