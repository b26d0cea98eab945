package dev.buildfarm.controller.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import dev.buildfarm.common.SourceHosts;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.rules.SourceRefs;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A source host that now resolves to a metadata address is refused before git connects. */
class GitRefResolverTest {

    private static final SourceHosts REBOUND = new SourceHosts(host -> new InetAddress[] {
            InetAddress.getByName("203.0.113.9"), InetAddress.getByName("169.254.169.254")});

    @Test
    void lsRemoteOfARefusedHostIsAFailedPrecondition() {
        GitRefResolver resolver = new GitRefResolver();
        resolver.hosts = REBOUND;
        assertThatThrownBy(() -> resolver.resolve("https://git.example/team/app.git", "main"))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    var status = e.toStatusRuntimeException();
                    assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(status.getStatus().getDescription())
                            .startsWith("spec.source.url: ")
                            .contains("'git.example' resolves to 169.254.169.254, a link-local or cloud metadata address");
                    assertThat(StatusProto.fromThrowable(status).getDetailsList()).anySatisfy(any -> {
                        assertThat(any.is(ErrorInfo.class)).isTrue();
                        assertThat(unpack(any).getReason()).isEqualTo("SOURCE_REFUSED");
                    });
                });
    }

    @Test
    void listingARepositorysRefsChecksTheHostToo() {
        SourceRefs refs = new SourceRefs();
        setHosts(refs, REBOUND);
        assertThatThrownBy(() -> refs.list("git://git.example/app.git", Optional.empty()))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.getMessage())
                        .startsWith("source.url: ").contains("resolves to 169.254.169.254"));
    }

    private static void setHosts(SourceRefs refs, SourceHosts hosts) {
        try {
            var field = SourceRefs.class.getDeclaredField("hosts");
            field.setAccessible(true);
            field.set(refs, hosts);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ErrorInfo unpack(com.google.protobuf.Any any) {
        try {
            return any.unpack(ErrorInfo.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
