package dev.buildfarm.common;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Hosts a git source may not name: link-local addresses and the cloud instance-metadata endpoints,
 * which hand out the credentials of the machine a controller or agent runs on. Checked twice: the
 * name as written when a spec is validated, and the addresses it resolves to right before every
 * connection (a name that resolved to a public address at submit time may resolve to a metadata
 * address later: DNS rebinding). The JVM caches a lookup for 30 s, so the connection made right
 * after the check uses the addresses that were checked.
 */
public final class SourceHosts {

    /** Resolves a host name to its addresses; the JVM's resolver by default, a table in tests. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    /** A source whose host is refused; the message says which host, which address and why. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    public static final Resolver SYSTEM = InetAddress::getAllByName;

    /** Names of metadata services, which resolve to a link-local address only inside a cloud. */
    private static final Set<String> METADATA_NAMES = Set.of(
            "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
            "metadata.azure.internal", "metadata.tencentyun.com");

    private static final byte[] ALIBABA_METADATA = {100, 100, 100, (byte) 200};
    private static final byte[] AWS_METADATA_V6 = v6("fd00:ec2::254");
    private static final byte[] NAT64_PREFIX = Arrays.copyOf(v6("64:ff9b::"), 12);

    private final Resolver resolver;

    public SourceHosts(Resolver resolver) {
        this.resolver = resolver;
    }

    /** Why this host, as written, is refused; empty when it is not (a name may still resolve to a refused address). */
    public static Optional<String> literalRefusal(String host) {
        String name = normalise(host);
        if (METADATA_NAMES.contains(name)) {
            return Optional.of("'" + host + "' is a cloud metadata service");
        }
        return literalAddress(name).filter(SourceHosts::isRefused)
                .map(a -> "'" + host + "' is " + a.getHostAddress() + ", a link-local or cloud metadata address");
    }

    /** Whether an address is link-local (169.254.0.0/16, fe80::/10) or a cloud metadata endpoint. */
    public static boolean isRefused(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return address.isLinkLocalAddress() || Arrays.equals(b, ALIBABA_METADATA);
        }
        if (address.isLinkLocalAddress() || Arrays.equals(b, AWS_METADATA_V6)) {
            return true;
        }
        // An IPv4 address carried inside IPv6 (compatible ::a.b.c.d, or NAT64 64:ff9b::a.b.c.d) is that address.
        boolean compatible = Arrays.equals(Arrays.copyOf(b, 12), new byte[12]);
        if (compatible || Arrays.equals(Arrays.copyOf(b, 12), NAT64_PREFIX)) {
            try {
                return isRefused(InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16)));
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    /**
     * Checks the host of a git URL right before connecting: the name as written, then every address it
     * resolves to. A name that does not resolve passes (the connection will fail and say so);
     * a URL without a host (file://) has nothing to check.
     */
    public void checkUrl(String url) throws Refused {
        Optional<String> host = hostOf(url);
        if (host.isEmpty()) {
            return;
        }
        Optional<String> literal = literalRefusal(host.get());
        if (literal.isPresent()) {
            throw new Refused("source host " + literal.get());
        }
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(normalise(host.get()));
        } catch (UnknownHostException e) {
            return;
        }
        for (InetAddress address : addresses) {
            if (isRefused(address)) {
                throw new Refused("source host '" + host.get() + "' resolves to " + address.getHostAddress()
                        + ", a link-local or cloud metadata address");
            }
        }
    }

    /** The host of a URL (brackets of an IPv6 literal removed), if it has one. */
    public static Optional<String> hostOf(String url) {
        try {
            URI uri = new URI(url);
            String host = uri.getHost();
            if (host == null && uri.getRawAuthority() != null) {
                // Not a server-based authority (e.g. an underscore in the name): take what sits between '@' and ':'.
                String authority = uri.getRawAuthority();
                authority = authority.substring(authority.lastIndexOf('@') + 1);
                host = authority.startsWith("[") ? authority : authority.replaceFirst(":[0-9]*$", "");
            }
            return Optional.ofNullable(host).filter(h -> !h.isEmpty()).map(h -> h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h);
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }

    private static String normalise(String host) {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        while (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name;
    }

    /** An IP address written as one: IPv6, or IPv4 in any form inet_aton accepts (0xA9FEA9FE, 2852039166, 0251.0376.0251.0376). */
    static Optional<InetAddress> literalAddress(String name) {
        if (name.contains(":")) {
            if (!name.matches("[0-9a-f:.]+(%[a-z0-9._-]+)?")) {
                return Optional.empty();
            }
            try {
                InetAddress a = InetAddress.getByName(name.replaceFirst("%.*$", "")); // a literal: no lookup
                return Optional.of(a);
            } catch (UnknownHostException e) {
                return Optional.empty();
            }
        }
        String[] parts = name.split("\\.", -1);
        if (parts.length > 4) {
            return Optional.empty();
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            Long v = number(parts[i]);
            if (v == null) {
                return Optional.empty();
            }
            values[i] = v;
        }
        // inet_aton: the last part fills all remaining bytes.
        long address = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 255) {
                return Optional.empty();
            }
            address |= values[i] << (8 * (3 - i));
        }
        long last = values[values.length - 1];
        if (last >= 1L << (8 * (4 - (values.length - 1)))) {
            return Optional.empty();
        }
        address |= last;
        try {
            return Optional.of(InetAddress.getByAddress(new byte[] {
                    (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address}));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private static Long number(String part) {
        try {
            if (part.startsWith("0x")) {
                return part.length() > 2 && part.length() <= 10 ? Long.parseLong(part.substring(2), 16) : null;
            }
            if (part.length() > 1 && part.startsWith("0")) {
                return part.length() <= 12 ? Long.parseLong(part.substring(1), 8) : null;
            }
            return !part.isEmpty() && part.length() <= 10 && part.chars().allMatch(Character::isDigit) ? Long.parseLong(part) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static byte[] v6(String literal) {
        try {
            return Inet6Address.getByName(literal).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
