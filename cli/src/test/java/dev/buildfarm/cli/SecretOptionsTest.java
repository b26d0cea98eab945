package dev.buildfarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.ListRegistryCredentialsRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsResponse;
import dev.buildfarm.api.v1.RegistryCredential;
import dev.buildfarm.api.v1.SetRegistryCredentialRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.TenancyServiceGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret build arguments and registry passwords: taken from the environment, a file or stdin, and never printed. */
class SecretOptionsTest {

  private static final String SECRET = "s3cret-value-7f1c";

  private final List<SubmitBuildRequest> submitted = new CopyOnWriteArrayList<>();
  private final List<SetRegistryCredentialRequest> stored = new CopyOnWriteArrayList<>();
  private Server server;
  private String endpoint;

  @BeforeEach
  void start() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new BuildServiceGrpc.BuildServiceImplBase() {
          @Override
          public void submitBuild(SubmitBuildRequest request, StreamObserver<Build> observer) {
            submitted.add(request);
            observer.onNext(Build.newBuilder().setName("builds/b1").build());
            observer.onCompleted();
          }
        })
        .addService(new TenancyServiceGrpc.TenancyServiceImplBase() {
          @Override
          public void setRegistryCredential(SetRegistryCredentialRequest request, StreamObserver<RegistryCredential> observer) {
            stored.add(request);
            // As the controller answers: everything but the password.
            observer.onNext(request.getCredential().toBuilder().clearPassword()
                .setName("namespaces/team/registryCredentials/0123456789abcdef").build());
            observer.onCompleted();
          }

          @Override
          public void listRegistryCredentials(ListRegistryCredentialsRequest request,
                                              StreamObserver<ListRegistryCredentialsResponse> observer) {
            observer.onNext(ListRegistryCredentialsResponse.newBuilder().addCredentials(RegistryCredential.newBuilder()
                .setName("namespaces/team/registryCredentials/0123456789abcdef").setRegistry("127.0.0.1:5002")
                .setUsername("robot")).build());
            observer.onCompleted();
          }
        })
        .build()
        .start();
    endpoint = "127.0.0.1:" + server.getPort();
  }

  @AfterEach
  void stop() throws InterruptedException {
    RegistryCredentialsCommand.stdin = System.in;
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private CliRun submit(Map<String, String> env, String... extra) {
    List<String> args = new ArrayList<>(List.of("--endpoint", endpoint, "submit",
        "--git-url", "https://example.com/demo.git", "--ref", "main",
        "--platform", "linux/amd64", "-t", "127.0.0.1:5000/demo/hello:main"));
    args.addAll(List.of(extra));
    return CliRun.with(env, args.toArray(String[]::new));
  }

  @Test
  void secretBuildArgumentsComeFromTheCommandLineTheEnvironmentOrAFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("npmrc-token");
    Files.writeString(file, SECRET + "-file\n");

    CliRun run = submit(Map.of("NPM_TOKEN", SECRET), "--secret-build-arg", "NPM_TOKEN",
        "--secret-build-arg", "INLINE=v=1", "--secret-build-arg-file", "FROM_FILE=" + file, "--build-arg", "PLAIN=p");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(submitted).singleElement().satisfies(request -> {
      assertThat(request.getSpec().getSecretBuildArgsMap()).isEqualTo(Map.of(
          "NPM_TOKEN", SECRET, "INLINE", "v=1", "FROM_FILE", SECRET + "-file"));
      assertThat(request.getSpec().getBuildArgsMap()).isEqualTo(Map.of("PLAIN", "p"));
    });
    assertThat(run.out() + run.err()).doesNotContain(SECRET);
  }

  @Test
  void aMissingSourceIsAUsageErrorThatNamesTheArgument(@TempDir Path dir) {
    CliRun unset = submit(Map.of(), "--secret-build-arg", "NPM_TOKEN");
    assertThat(unset.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(unset.err()).contains("--secret-build-arg NPM_TOKEN").contains("environment variable 'NPM_TOKEN' is not set");

    CliRun unreadable = submit(Map.of(), "--secret-build-arg-file", "T=" + dir.resolve("missing"));
    assertThat(unreadable.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(unreadable.err()).contains("--secret-build-arg-file T: cannot read");
    assertThat(submitted).isEmpty();
  }

  @Test
  void registryCredentialsTakeThePasswordFromStdinOrTheEnvironmentAndNeverPrintIt() {
    RegistryCredentialsCommand.stdin = new ByteArrayInputStream((SECRET + "\n").getBytes(StandardCharsets.UTF_8));
    CliRun fromStdin = CliRun.with(Map.of(), "--endpoint", endpoint, "registry-credentials", "set", "--namespace", "team",
        "--registry", "127.0.0.1:5002", "--username", "robot", "--password-stdin");
    CliRun fromEnv = CliRun.with(Map.of("REGISTRY_PASSWORD", SECRET + "-env"), "--endpoint", endpoint,
        "registry-credentials", "set", "--registry", "127.0.0.1:5002", "--repository-prefix", "app", "--username", "robot",
        "--password-env", "REGISTRY_PASSWORD");

    assertThat(fromStdin.exitCode()).as(fromStdin.err()).isZero();
    assertThat(fromEnv.exitCode()).as(fromEnv.err()).isZero();
    assertThat(stored).extracting(r -> r.getCredential().getPassword()).containsExactly(SECRET, SECRET + "-env");
    assertThat(stored.get(0).getNamespace()).isEqualTo("team");
    assertThat(stored.get(1).getCredential().getRepositoryPrefix()).isEqualTo("app");
    assertThat(fromStdin.out()).contains("namespaces/team/registryCredentials/0123456789abcdef  127.0.0.1:5002  user robot");
    assertThat(fromStdin.out() + fromStdin.err() + fromEnv.out() + fromEnv.err()).doesNotContain(SECRET);

    CliRun list = CliRun.with(Map.of(), "--endpoint", endpoint, "registry-credentials", "list");
    assertThat(list.exitCode()).isZero();
    assertThat(list.out()).contains("127.0.0.1:5002  user robot");
  }

  @Test
  void aPasswordIsNeverAnOptionValue() {
    CliRun run = CliRun.with(Map.of(), "--endpoint", endpoint, "registry-credentials", "set", "--registry", "r.example.com",
        "--username", "robot", "--password", SECRET);
    assertThat(run.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(stored).isEmpty();

    CliRun none = CliRun.with(Map.of(), "--endpoint", endpoint, "registry-credentials", "set", "--registry", "r.example.com",
        "--username", "robot");
    assertThat(none.exitCode()).isEqualTo(Main.EXIT_USAGE);
    assertThat(none.err()).contains("--password-stdin").contains("--password-env");
  }
}
