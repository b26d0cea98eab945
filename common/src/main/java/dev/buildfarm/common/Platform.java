package dev.buildfarm.common;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A target platform of a build, normalised the containerd way so that "aarch64", "arm64/v8" and
 * "linux/arm64" are one value. Only the four Linux platforms the farm builds are accepted.
 */
public record Platform(String os, String architecture, String variant) {

    public static final Platform LINUX_AMD64 = new Platform("linux", "amd64", "");
    public static final Platform LINUX_ARM64 = new Platform("linux", "arm64", "");
    public static final Platform LINUX_ARM_V7 = new Platform("linux", "arm", "v7");
    public static final Platform LINUX_ARM_V6 = new Platform("linux", "arm", "v6");

    /** Every platform the farm builds, in the order used for indexes and listings. */
    public static final List<Platform> SUPPORTED = List.of(LINUX_AMD64, LINUX_ARM64, LINUX_ARM_V7, LINUX_ARM_V6);

    public Platform {
        variant = variant == null ? "" : variant;
    }

    /**
     * Parses and normalises a platform string such as "linux/arm/v7", "arm64" or "armhf".
     *
     * @throws IllegalArgumentException with a message that says what is wrong and what is accepted
     */
    public static Platform parse(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("must not be empty; use one of " + supportedNames());
        }
        String[] parts = value.trim().toLowerCase(Locale.ROOT).split("/", -1);
        if (parts.length > 3) {
            throw new IllegalArgumentException("'" + value + "' is not os/architecture[/variant]; use one of " + supportedNames());
        }
        // "arm64/v8" and "arm/v7" name no OS: containerd reads them as linux.
        boolean osGiven = parts.length == 3 || (parts.length == 2 && normalise(parts[0], parts[1]).isEmpty());
        String os = osGiven ? parts[0] : "linux";
        String arch = osGiven ? parts[1] : parts[0];
        String variant = osGiven ? (parts.length == 3 ? parts[2] : "") : (parts.length == 2 ? parts[1] : "");
        if (os.equals("windows")) {
            throw new IllegalArgumentException("'" + value + "': Windows images are not supported; all supported architectures run on Linux");
        }
        if (!os.equals("linux")) {
            throw new IllegalArgumentException("'" + value + "': unknown operating system '" + os + "'; use one of " + supportedNames());
        }
        Platform normalised = normalise(arch, variant).orElseThrow(() -> new IllegalArgumentException(
                "'" + value + "' is not a supported platform; use one of " + supportedNames()));
        return normalised;
    }

    private static Optional<Platform> normalise(String arch, String variant) {
        switch (arch) {
            case "amd64", "x86_64", "x86-64" -> {
                return variant.isEmpty() || variant.equals("v1") ? Optional.of(LINUX_AMD64) : Optional.empty();
            }
            case "arm64", "aarch64" -> {
                return variant.isEmpty() || variant.equals("v8") ? Optional.of(LINUX_ARM64) : Optional.empty();
            }
            case "armhf", "armv7", "armv7l" -> {
                return variant.isEmpty() ? Optional.of(LINUX_ARM_V7) : Optional.empty();
            }
            case "armel", "armv6", "armv6l" -> {
                return variant.isEmpty() ? Optional.of(LINUX_ARM_V6) : Optional.empty();
            }
            case "arm" -> {
                // containerd treats a bare "arm" as arm/v7.
                return switch (variant) {
                    case "", "v7", "7" -> Optional.of(LINUX_ARM_V7);
                    case "v6", "6" -> Optional.of(LINUX_ARM_V6);
                    default -> Optional.empty();
                };
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    /** The Linux machine name reported by `uname -m` on this platform, mapped back. */
    public static Optional<Platform> fromMachine(String machine) {
        if (machine == null) {
            return Optional.empty();
        }
        return normalise(machine.trim().toLowerCase(Locale.ROOT), "");
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

    /** Position in the farm's fixed order, which is also the order of entries in every index. */
    public int order() {
        return SUPPORTED.indexOf(this);
    }

    /** "linux/arm/v7". */
    @Override
    public String toString() {
        return variant.isEmpty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
    }

    /** "linux-arm-v7": for topic names, tags and file names. */
    public String slug() {
        return toString().replace('/', '-');
    }

    public static String supportedNames() {
        return String.join(", ", SUPPORTED.stream().map(Platform::toString).toList());
    }
}
