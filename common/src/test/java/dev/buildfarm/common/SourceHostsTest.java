package dev.buildfarm.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SourceHostsTest {

    @ParameterizedTest
    @ValueSource(strings = {"169.254.169.254", "169.254.0.1", "100.100.100.200", "[fe80::1]", "fe80::1%eth0", "febf::1",
            "[fd00:ec2::254]", "::ffff:169.254.169.254", "::169.254.169.254", "64:ff9b::a9fe:a9fe", "2852039166",
            "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "metadata", "Metadata.Google.Internal.", "metadata.goog",
            "instance-data"})
    void refusesLinkLocalAndMetadataHostsAsWritten(String host) {
        assertThat(SourceHosts.literalRefusal(host)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "10.0.0.1", "192.168.1.10", "git.example.com", "[::1]", "fd00::1",
            "100.100.100.201", "169.253.1.1", "metadata.example.com", "1.2.3.4.5", "0x", "localhost"})
    void allowsOtherHosts(String host) {
        assertThat(SourceHosts.literalRefusal(host)).isEmpty();
    }

    @Test
    void checksTheAddressesANameResolvesTo() throws Exception {
        Map<String, String> dns = Map.of("rebind.example", "169.254.169.254", "git.example", "203.0.113.7",
                "v6.example", "fe80::5");
        SourceHosts hosts = new SourceHosts(name -> {
            String a = dns.get(name);
            if (a == null) {
                throw new UnknownHostException(name);
            }
            return new InetAddress[] {InetAddress.getByName(a)};
        });
        assertThatThrownBy(() -> hosts.checkUrl("https://rebind.example/team/app.git"))
                .isInstanceOf(SourceHosts.Refused.class)
                .hasMessageContaining("'rebind.example' resolves to 169.254.169.254");
        assertThatThrownBy(() -> hosts.checkUrl("ssh://git@v6.example:2222/app.git"))
                .hasMessageContaining("resolves to fe80");
        assertThatThrownBy(() -> hosts.checkUrl("git://[fe80::1]/app.git")).hasMessageContaining("link-local");
        assertThatThrownBy(() -> hosts.checkUrl("http://metadata.google.internal/computeMetadata/v1/"))
                .hasMessageContaining("cloud metadata service");
        assertThatCode(() -> hosts.checkUrl("https://git.example/team/app.git")).doesNotThrowAnyException();
        assertThatCode(() -> hosts.checkUrl("https://nowhere.example/app.git")).doesNotThrowAnyException();
        assertThatCode(() -> hosts.checkUrl("file:///srv/git/app.git")).doesNotThrowAnyException();
    }

    @Test
    void findsTheHostOfAUrl() {
        assertThat(SourceHosts.hostOf("ssh://git@host_1.example:22/x")).contains("host_1.example");
        assertThat(SourceHosts.hostOf("git://[fe80::1]:9418/x")).contains("fe80::1");
        assertThat(SourceHosts.hostOf("file:///tmp/x")).isEmpty();
    }
}
