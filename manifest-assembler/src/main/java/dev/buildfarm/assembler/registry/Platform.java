package dev.buildfarm.assembler.registry;

import java.util.List;
import java.util.Optional;

/**
 * One of the farm's target platforms, in its normalised form ("linux/arm/v7"). The order of
 * {@link #SUPPORTED} is the order of the entries in every index the assembler writes.
 */
public record Platform(String os, String architecture, String variant) {
    public static final Platform LINUX_AMD64 = new Platform("linux", "amd64", "");
    public static final Platform LINUX_ARM64 = new Platform("linux", "arm64", "");
    public static final Platform LINUX_ARM_V7 = new Platform("linux", "arm", "v7");
    public static final Platform LINUX_ARM_V6 = new Platform("linux", "arm", "v6");
    public static final List<Platform> SUPPORTED = List.of(LINUX_AMD64, LINUX_ARM64, LINUX_ARM_V7, LINUX_ARM_V6);

    public Platform {
        variant = variant == null ? "" : variant;
    }

    /** The supported platform written exactly as {@code text} ("linux/arm64", not "linux/aarch64"). */
    public static Optional<Platform> parse(String text) {
        return SUPPORTED.stream().filter(p -> p.toString().equals(text)).findFirst();
    }

    /**
     * Whether an image config's os/architecture/variant describe this platform. arm64 images carry
     * variant "v8" or none (both mean the same, as in containerd); 32-bit arm must name its variant.
     */
    public boolean matchesConfig(String configOs, String configArchitecture, String configVariant) {
        String v = configVariant == null ? "" : configVariant;
        if ("arm64".equals(configArchitecture) && "v8".equals(v)) {
            v = "";
        }
        return os.equals(configOs) && architecture.equals(configArchitecture) && variant.equals(v);
    }

    /** Position in the fixed index order. */
    public int order() {
        return SUPPORTED.indexOf(this);
    }

    /** A config's platform, for messages ("linux/arm64/v8", "linux/?"). */
    public static String describe(String os, String architecture, String variant) {
        String s = (os == null || os.isEmpty() ? "?" : os) + "/" + (architecture == null || architecture.isEmpty() ? "?" : architecture);
        return variant == null || variant.isEmpty() ? s : s + "/" + variant;
    }

    @Override
    public String toString() {
        return describe(os, architecture, variant);
    }
}
