package dev.buildfarm.helm;

import static dev.buildfarm.helm.Chart.RELEASE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.buildfarm.helm.Chart.Node;
import dev.buildfarm.helm.Chart.Rendered;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** helm template with several value sets; assertions on the rendered objects, parsed as YAML. */
class ChartTemplateTest {

    static final String PREFIX = RELEASE + "-buildfarm-";

    @Nested
    class Defaults {

        final Rendered rendered = Chart.values().render();

        @Test
        void rendersTheExpectedObjects() {
            assertThat(rendered.ofKind("Deployment")).extracting(d -> d.string("metadata.name")).containsExactlyInAnyOrder(
                    PREFIX + "controller", PREFIX + "manifest-assembler",
                    PREFIX + "agent-linux-amd64", PREFIX + "agent-linux-arm64",
                    PREFIX + "agent-linux-arm-v7", PREFIX + "agent-linux-arm-v6");
            assertThat(rendered.ofKind("Service")).extracting(s -> s.string("metadata.name"))
                    .containsExactlyInAnyOrder(PREFIX + "controller", PREFIX + "manifest-assembler");
            assertThat(rendered.ofKind("ScaledObject")).as("KEDA is off by default").isEmpty();
            assertThat(rendered.ofKind("Secret")).as("the password comes from an existing Secret").isEmpty();
            assertThat(rendered.find("Deployment", PREFIX + "agent-emulation")).as("emulation is off by default").isEmpty();
        }

        @Test
        void sensibleReplicaDefaults() {
            assertThat(rendered.deployment("agent-linux-amd64").at("spec.replicas").value()).isEqualTo(1);
            assertThat(rendered.deployment("agent-linux-arm64").at("spec.replicas").value()).isEqualTo(1);
            assertThat(rendered.deployment("agent-linux-arm-v7").at("spec.replicas").value()).isEqualTo(1);
            assertThat(rendered.deployment("agent-linux-arm-v6").at("spec.replicas").value()).isEqualTo(0);
        }

        @Test
        void standardLabelsOnEveryObject() {
            for (Map<String, Object> object : rendered.objects()) {
                Map<String, Object> labels = new Node(object).map("metadata.labels");
                assertThat(labels).as("labels of %s", new Node(object).string("metadata.name")).contains(
                        entry("app.kubernetes.io/name", "buildfarm"),
                        entry("app.kubernetes.io/instance", RELEASE),
                        entry("app.kubernetes.io/version", "0.1.0"),
                        entry("app.kubernetes.io/managed-by", "Helm"))
                        .containsKey("app.kubernetes.io/component");
            }
        }

        @Test
        void controllerServesGrpcAndHttpOn8080WithHealthProbes() {
            Node controller = rendered.deployment("controller").container("controller");

            assertThat(controller.string("image")).isEqualTo("buildfarm/controller:0.1.0");
            assertThat(controller.list("ports")).singleElement()
                    .satisfies(p -> assertThat(p.at("containerPort").value()).isEqualTo(8080));
            assertThat(controller.string("readinessProbe.httpGet.path")).isEqualTo("/q/health/ready");
            assertThat(controller.string("livenessProbe.httpGet.path")).isEqualTo("/q/health/live");
            assertThat(controller.string("readinessProbe.httpGet.port")).isEqualTo("http");

            Node service = rendered.get("Service", PREFIX + "controller");
            assertThat(service.list("spec.ports")).singleElement().satisfies(p -> {
                assertThat(p.at("port").value()).isEqualTo(8080);
                assertThat(p.string("targetPort")).isEqualTo("http");
            });
            assertThat(service.map("spec.selector"))
                    .isEqualTo(rendered.deployment("controller").map("spec.selector.matchLabels"))
                    .containsEntry("app.kubernetes.io/component", "controller");
        }

        @Test
        void controllerEnvironment() {
            Map<String, String> env = rendered.deployment("controller").container("controller").env();

            assertThat(env).contains(
                    entry("QUARKUS_HTTP_HOST", "0.0.0.0"),
                    entry("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://postgresql:5432/buildfarm"),
                    entry("QUARKUS_DATASOURCE_USERNAME", "buildfarm"),
                    entry("QUARKUS_DATASOURCE_PASSWORD", "secretKeyRef:buildfarm-postgresql/password"),
                    entry("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
                    entry("BUILDFARM_KAFKA_JOB_PARTITIONS", "4"),
                    entry("BUILDFARM_LEASE_TIMEOUT", "30s"),
                    entry("QUARKUS_GRPC_CLIENTS_ASSEMBLER_HOST", PREFIX + "manifest-assembler"),
                    entry("QUARKUS_GRPC_CLIENTS_ASSEMBLER_PORT", "8082"));
        }

        @Test
        void everyServiceLogsJsonForTheCollector() {
            assertThat(rendered.deployment("controller").container("controller").env()).containsEntry("BUILDFARM_LOG_JSON", "true");
            assertThat(rendered.deployment("manifest-assembler").container("manifest-assembler").env())
                    .containsEntry("BUILDFARM_LOG_JSON", "true");
            assertThat(rendered.deployment("agent-linux-arm-v7").container("agent").env()).containsEntry("BUILDFARM_LOG_JSON", "true");
        }

        @Test
        void assemblerOn8082WithProbes() {
            Node assembler = rendered.deployment("manifest-assembler").container("manifest-assembler");

            assertThat(assembler.list("ports")).singleElement()
                    .satisfies(p -> assertThat(p.at("containerPort").value()).isEqualTo(8082));
            assertThat(assembler.string("readinessProbe.httpGet.path")).isEqualTo("/q/health/ready");
            assertThat(assembler.string("livenessProbe.httpGet.path")).isEqualTo("/q/health/live");
            assertThat(assembler.env()).containsEntry("QUARKUS_HTTP_HOST", "0.0.0.0")
                    .doesNotContainKeys("BUILDFARM_REGISTRY_INSECURE", "DOCKER_CONFIG", "BUILDFARM_REGISTRY_DOCKER_CONFIG");
            assertThat(rendered.get("Service", PREFIX + "manifest-assembler").list("spec.ports"))
                    .singleElement().satisfies(p -> assertThat(p.at("port").value()).isEqualTo(8082));
        }

        @Test
        void eachPoolSelectsItsArchitectureAndVariant() {
            assertThat(rendered.deployment("agent-linux-amd64").map("spec.template.spec.nodeSelector"))
                    .containsOnly(entry("kubernetes.io/os", "linux"), entry("kubernetes.io/arch", "amd64"));
            assertThat(rendered.deployment("agent-linux-arm64").map("spec.template.spec.nodeSelector"))
                    .containsOnly(entry("kubernetes.io/os", "linux"), entry("kubernetes.io/arch", "arm64"));
            assertThat(rendered.deployment("agent-linux-arm-v7").map("spec.template.spec.nodeSelector"))
                    .containsOnly(entry("kubernetes.io/os", "linux"), entry("kubernetes.io/arch", "arm"),
                            entry("buildfarm.dev/arm-variant", "v7"));
            assertThat(rendered.deployment("agent-linux-arm-v6").map("spec.template.spec.nodeSelector"))
                    .containsOnly(entry("kubernetes.io/os", "linux"), entry("kubernetes.io/arch", "arm"),
                            entry("buildfarm.dev/arm-variant", "v6"));
        }

        @Test
        void eachPoolOffersItsPlatformOnly() {
            Map<String, String> expected = Map.of(
                    "linux-amd64", "linux/amd64", "linux-arm64", "linux/arm64",
                    "linux-arm-v7", "linux/arm/v7", "linux-arm-v6", "linux/arm/v6");
            expected.forEach((pool, platform) -> {
                Node deployment = rendered.deployment("agent-" + pool);
                assertThat(deployment.map("spec.selector.matchLabels")).containsEntry("buildfarm.dev/pool", pool)
                        .containsEntry("app.kubernetes.io/component", "agent");
                assertThat(deployment.map("spec.template.metadata.labels")).containsEntry("buildfarm.dev/pool", pool);
                assertThat(deployment.container("agent").env()).contains(
                        entry("BUILDFARM_AGENT_PLATFORMS", platform),
                        entry("BUILDFARM_AGENT_ALLOW_EMULATION", "false"),
                        entry("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
                        entry("QUARKUS_GRPC_CLIENTS_CONTROLLER_HOST", PREFIX + "controller"),
                        entry("QUARKUS_GRPC_CLIENTS_CONTROLLER_PORT", "8080"),
                        entry("BUILDFARM_AGENT_NAME", "fieldRef:metadata.name"),
                        entry("QUARKUS_HTTP_HOST", "0.0.0.0"));
            });
        }

        @Test
        void agentsDrainForLongerThanABuild() {
            Node pod = rendered.deployment("agent-linux-amd64").podSpec();

            // The agent waits up to 10 minutes for the running build after SIGTERM.
            assertThat((Integer) pod.at("terminationGracePeriodSeconds").value()).isGreaterThan(600);
            assertThat(rendered.deployment("agent-linux-amd64").string("spec.strategy.rollingUpdate.maxUnavailable"))
                    .isEqualTo("0");
        }

        @Test
        void dockerSidecarByDefault() {
            Node deployment = rendered.deployment("agent-linux-arm64");
            Node docker = deployment.container("docker");

            assertThat(docker.string("image")).isEqualTo("docker.io/library/docker:27-dind");
            assertThat(docker.at("securityContext.privileged").value()).isEqualTo(true);
            assertThat(docker.string("restartPolicy")).as("native sidecar").isEqualTo("Always");
            assertThat(deployment.podSpec().list("initContainers")).extracting(c -> c.string("name")).containsExactly("docker");
            assertThat(docker.list("args")).extracting(Node::value)
                    .containsExactly("dockerd", "--host=unix:///var/run/dind/docker.sock");
            assertThat(deployment.container("agent").env())
                    .containsEntry("BUILDFARM_AGENT_DOCKER_HOST", "unix:///var/run/dind/docker.sock");
            assertThat(deployment.volumes()).containsKeys("docker-socket", "docker-storage", "work");
            assertThat(deployment.volumes().get("docker-socket")).containsKey("emptyDir").doesNotContainKey("hostPath");
            assertThat(deployment.volumes().get("docker-storage")).isEqualTo(Map.of("emptyDir", Map.of("sizeLimit", "30Gi")));
        }

        @Test
        void helmTestHookChecksGrpcHealthOfTheController() {
            Node pod = rendered.get("Pod", PREFIX + "test-grpc-health");

            assertThat(pod.map("metadata.annotations")).containsEntry("helm.sh/hook", "test");
            assertThat(pod.string("spec.restartPolicy")).isEqualTo("Never");
            Node probe = pod.container("controller");
            assertThat(probe.string("image")).startsWith("ghcr.io/grpc-ecosystem/grpc-health-probe:");
            assertThat(probe.list("args")).extracting(Node::value).contains("-addr=" + PREFIX + "controller:8080");
            assertThat(pod.container("manifest-assembler").list("args")).extracting(Node::value)
                    .contains("-addr=" + PREFIX + "manifest-assembler:8082");
        }
    }

    @Nested
    class FullValueSet {

        final Rendered rendered = Chart.values("full.yaml").render();

        @Test
        void namesFollowNameOverride() {
            assertThat(rendered.find("Deployment", RELEASE + "-farm-controller")).isPresent();
            assertThat(rendered.objects()).allSatisfy(o ->
                    assertThat(new Node(o).map("metadata.labels")).containsEntry("app.kubernetes.io/name", "farm"));
        }

        @Test
        void imagesComeFromTheConfiguredRegistryAndTags() {
            Node controller = rendered.get("Deployment", RELEASE + "-farm-controller").container("controller");
            Node assembler = rendered.get("Deployment", RELEASE + "-farm-manifest-assembler").container("manifest-assembler");
            Node agent = rendered.get("Deployment", RELEASE + "-farm-agent-linux-amd64").container("agent");

            assertThat(controller.string("image")).isEqualTo("registry.example.com/buildfarm/team/controller:1.2.4");
            assertThat(assembler.string("image")).isEqualTo("registry.example.com/buildfarm/buildfarm/manifest-assembler:1.2.3");
            assertThat(agent.string("image")).isEqualTo("registry.example.com/buildfarm/buildfarm/agent:1.2.3");
            assertThat(List.of(controller, assembler, agent)).allSatisfy(c ->
                    assertThat(c.string("imagePullPolicy")).isEqualTo("Always"));
            assertThat(rendered.get("Deployment", RELEASE + "-farm-controller").podSpec().list("imagePullSecrets"))
                    .extracting(s -> s.string("name")).containsExactly("regcred");
        }

        @Test
        void existingSecretIsReferencedAndNoPasswordIsRendered() {
            Map<String, String> env = rendered.get("Deployment", RELEASE + "-farm-controller").container("controller").env();

            assertThat(env).containsEntry("QUARKUS_DATASOURCE_PASSWORD", "secretKeyRef:farm-db/pg-password")
                    .containsEntry("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://db.example.com:5432/farm?sslmode=require")
                    .containsEntry("QUARKUS_DATASOURCE_USERNAME", "farm")
                    .containsEntry("BUILDFARM_LEASE_TIMEOUT", "2m")
                    .containsEntry("BUILDFARM_KAFKA_JOB_PARTITIONS", "8")
                    .containsEntry("KAFKA_BOOTSTRAP_SERVERS", "kafka-0.kafka:9092,kafka-1.kafka:9092")
                    .containsEntry("BUILDFARM_SOURCES_ALLOW_FILE_URLS", "false");
            assertThat(rendered.ofKind("Secret")).isEmpty();
            assertThat(rendered.objects().toString()).doesNotContain("ignored-because-existingSecret-wins");
        }

        @Test
        void controllerServiceAndScheduling() {
            Node deployment = rendered.get("Deployment", RELEASE + "-farm-controller");
            Node service = rendered.get("Service", RELEASE + "-farm-controller");

            assertThat(service.string("spec.type")).isEqualTo("LoadBalancer");
            assertThat(service.list("spec.ports")).singleElement().satisfies(p -> assertThat(p.at("port").value()).isEqualTo(9090));
            assertThat(service.map("metadata.annotations")).containsKey("service.beta.kubernetes.io/aws-load-balancer-internal");
            assertThat(deployment.podSpec().map("nodeSelector")).containsEntry("node-role.example.com/control", "true");
            assertThat(deployment.podSpec().list("tolerations")).hasSize(1);
            assertThat(deployment.podSpec().has("affinity.podAntiAffinity")).isTrue();
            assertThat(deployment.map("spec.template.metadata.annotations")).containsEntry("prometheus.io/scrape", "true");
            // Agents find the controller on the Service's port.
            assertThat(rendered.get("Deployment", RELEASE + "-farm-agent-linux-amd64").container("agent").env())
                    .containsEntry("QUARKUS_GRPC_CLIENTS_CONTROLLER_PORT", "9090");
            assertThat(rendered.get("Pod", RELEASE + "-farm-test-grpc-health").container("controller").list("args"))
                    .extracting(Node::value).contains("-addr=" + RELEASE + "-farm-controller:9090");
        }

        @Test
        void registrySettingsReachAssemblerAndEngines() {
            Node assembler = rendered.get("Deployment", RELEASE + "-farm-manifest-assembler");
            assertThat(assembler.at("spec.replicas").value()).isEqualTo(2);
            assertThat(assembler.container("manifest-assembler").env())
                    .containsEntry("BUILDFARM_REGISTRY_INSECURE", "registry.internal:5000,10.0.0.5:5000")
                    .containsEntry("DOCKER_CONFIG", "/etc/buildfarm/docker")
                    .containsEntry("BUILDFARM_REGISTRY_DOCKER_CONFIG", "/etc/buildfarm/docker/config.json")
                    .containsEntry("BUILDFARM_REGISTRY_MAX_ATTEMPTS", "7");
            assertThat(assembler.volumes().get("registry-credentials"))
                    .isEqualTo(Map.of("secret", Map.of("secretName", "push-credentials",
                            "items", List.of(Map.of("key", ".dockerconfigjson", "path", "config.json")))));

            Node agents = rendered.get("Deployment", RELEASE + "-farm-agent-linux-arm64");
            assertThat(agents.container("agent").env()).containsEntry("DOCKER_CONFIG", "/etc/buildfarm/docker")
                    .containsEntry("BUILDFARM_REGISTRY_DOCKER_CONFIG", "/etc/buildfarm/docker/config.json")
                    .containsEntry("BUILDFARM_AGENT_PROBE_IMAGE", "registry.internal:5000/library/busybox:1.36")
                    .containsEntry("BUILDFARM_AGENT_HEARTBEAT_INTERVAL", "10s");
            assertThat(agents.container("docker").list("args")).extracting(Node::value).containsExactly(
                    "dockerd", "--host=unix:///var/run/dind/docker.sock",
                    "--insecure-registry=registry.internal:5000", "--insecure-registry=10.0.0.5:5000", "--mtu=1400");
        }

        @Test
        void classicSidecarWaitsForTheAgentBeforeStopping() {
            Node deployment = rendered.get("Deployment", RELEASE + "-farm-agent-linux-amd64");
            Node docker = deployment.container("docker");

            // The engine comes first: its postStart hook holds the agent back until the engine answers.
            assertThat(deployment.podSpec().list("containers")).extracting(c -> c.string("name")).containsExactly("docker", "agent");
            assertThat(docker.list("lifecycle.postStart.exec.command")).extracting(Node::value).last().asString()
                    .contains("docker --host=unix:///var/run/dind/docker.sock version");
            assertThat(deployment.map("spec.template.metadata.annotations"))
                    .containsEntry("kubectl.kubernetes.io/default-container", "agent");
            assertThat(deployment.podSpec().has("initContainers")).isFalse();
            assertThat(docker.has("restartPolicy")).isFalse();
            assertThat(docker.string("image")).isEqualTo("mirror.example.com/library/docker:27-dind");
            assertThat(docker.list("lifecycle.preStop.exec.command")).extracting(Node::value).last().asString()
                    .contains("127.0.0.1:8081/q/health/live");
            assertThat(deployment.volumes().get("docker-storage")).isEqualTo(Map.of("emptyDir", Map.of()));
            assertThat(deployment.podSpec().at("terminationGracePeriodSeconds").value()).isEqualTo(3600);
        }

        @Test
        void poolsMergeTheirOwnSchedulingWithTheDefaults() {
            Node arm64 = rendered.get("Deployment", RELEASE + "-farm-agent-linux-arm64");
            assertThat(arm64.podSpec().map("nodeSelector")).containsOnly(
                    entry("kubernetes.io/os", "linux"), entry("kubernetes.io/arch", "arm64"),
                    entry("node.example.com/pool", "builders"));
            assertThat(arm64.podSpec().list("tolerations")).extracting(t -> t.string("key"))
                    .containsExactly("buildfarm.dev/agents", "arch");
            assertThat(arm64.container("agent").map("resources")).isEqualTo(Map.of("requests", Map.of("cpu", "2", "memory", "256Mi")));

            Node v7 = rendered.get("Deployment", RELEASE + "-farm-agent-linux-arm-v7");
            assertThat(v7.podSpec().map("nodeSelector")).containsEntry("example.com/arm-version", "v7")
                    .doesNotContainKey("buildfarm.dev/arm-variant");
        }

        @Test
        void disabledPoolIsAbsent() {
            assertThat(rendered.find("Deployment", RELEASE + "-farm-agent-linux-arm-v6")).isEmpty();
            assertThat(rendered.find("ScaledObject", RELEASE + "-farm-agent-linux-arm-v6")).isEmpty();
        }

        @Test
        void emulationPoolRegistersBinfmtBeforeTheAgentStarts() {
            Node emulation = rendered.get("Deployment", RELEASE + "-farm-agent-emulation");
            Node binfmt = emulation.container("binfmt");

            assertThat(emulation.podSpec().list("initContainers")).extracting(c -> c.string("name")).containsExactly("binfmt");
            assertThat(binfmt.string("image")).isEqualTo("mirror.example.com/tonistiigi/binfmt:qemu-v8.1.5");
            assertThat(binfmt.at("securityContext.privileged").value()).isEqualTo(true);
            assertThat(binfmt.list("args")).extracting(Node::value).containsExactly("--install", "arm");
            assertThat(emulation.container("agent").env())
                    .containsEntry("BUILDFARM_AGENT_PLATFORMS", "linux/arm/v6,linux/arm/v7")
                    .containsEntry("BUILDFARM_AGENT_ALLOW_EMULATION", "true");
            List<Node> terms = emulation.podSpec()
                    .list("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
            assertThat(terms).singleElement().satisfies(term -> assertThat(term.list("matchExpressions")).singleElement()
                    .satisfies(e -> {
                        assertThat(e.string("key")).isEqualTo("kubernetes.io/arch");
                        assertThat(e.string("operator")).isEqualTo("In");
                        assertThat(e.list("values")).extracting(Node::value).containsExactly("amd64");
                    }));
        }

        @Test
        void autoscaledPoolsLeaveReplicasToKeda() {
            assertThat(rendered.get("Deployment", RELEASE + "-farm-agent-linux-amd64").at("spec.replicas").value())
                    .as("autoscaling switched off for this pool").isEqualTo(2);
            assertThat(rendered.get("Deployment", RELEASE + "-farm-agent-linux-arm64").has("spec.replicas")).isFalse();
            assertThat(rendered.get("Deployment", RELEASE + "-farm-agent-emulation").has("spec.replicas")).isFalse();

            assertThat(rendered.ofKind("ScaledObject")).extracting(s -> s.string("metadata.name")).containsExactlyInAnyOrder(
                    RELEASE + "-farm-agent-linux-arm64", RELEASE + "-farm-agent-linux-arm-v7", RELEASE + "-farm-agent-emulation");

            Node v7 = rendered.get("ScaledObject", RELEASE + "-farm-agent-linux-arm-v7");
            assertThat(v7.at("spec.minReplicaCount").value()).isEqualTo(1);
            assertThat(v7.at("spec.maxReplicaCount").value()).isEqualTo(2);
            Node trigger = v7.list("spec.triggers").get(0);
            assertThat(trigger.string("authenticationRef.name")).isEqualTo("kafka-sasl");
            assertThat(trigger.map("metadata")).containsEntry("lagThreshold", "2");

            Node emulation = rendered.get("ScaledObject", RELEASE + "-farm-agent-emulation");
            assertThat(emulation.list("spec.triggers")).extracting(t -> t.string("metadata.topic"))
                    .containsExactly("buildfarm.jobs.linux-arm-v6", "buildfarm.jobs.linux-arm-v7");
            assertThat(emulation.list("spec.triggers")).extracting(t -> t.string("metadata.consumerGroup"))
                    .as("emulating agents read in groups of their own")
                    .containsExactly("buildfarm-agents-linux-arm-v6-emulated", "buildfarm-agents-linux-arm-v7-emulated");
            assertThat(emulation.at("spec.maxReplicaCount").value()).as("defaults to the partitions").isEqualTo(8);
        }
    }

    @Nested
    class HostSocketAndChartSecret {

        final Rendered rendered = Chart.values("host-socket.yaml").render();

        @Test
        void agentsUseTheNodesEngineThroughItsSocket() {
            for (String pool : List.of("agent-linux-amd64", "agent-linux-arm-v7", "agent-emulation")) {
                Node deployment = rendered.deployment(pool);
                assertThat(deployment.containers()).extracting(c -> c.string("name")).doesNotContain("docker");
                assertThat(deployment.volumes().get("docker-socket"))
                        .isEqualTo(Map.of("hostPath", Map.of("path", "/run/docker.sock", "type", "Socket")));
                assertThat(deployment.volumes()).doesNotContainKey("docker-storage");
                assertThat(deployment.container("agent").env())
                        .containsEntry("BUILDFARM_AGENT_DOCKER_HOST", "unix:///var/run/docker.sock");
                assertThat(deployment.container("agent").list("volumeMounts"))
                        .anySatisfy(m -> {
                            assertThat(m.string("name")).isEqualTo("docker-socket");
                            assertThat(m.string("mountPath")).isEqualTo("/var/run/docker.sock");
                        });
            }
        }

        @Test
        void emulationPoolHasOnlyTheBinfmtInitContainer() {
            Node emulation = rendered.deployment("agent-emulation");

            assertThat(emulation.podSpec().list("initContainers")).extracting(c -> c.string("name")).containsExactly("binfmt");
            assertThat(emulation.container("binfmt").string("image")).isEqualTo("docker.io/tonistiigi/binfmt:qemu-v8.1.5");
            assertThat(emulation.container("agent").env()).containsEntry("BUILDFARM_AGENT_PLATFORMS", "linux/arm/v6");
            assertThat(emulation.podSpec().list(
                    "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").get(0)
                    .list("matchExpressions").get(0).list("values")).extracting(Node::value).containsExactly("amd64", "arm64");
        }

        @Test
        void disabledPoolsAreAbsent() {
            assertThat(rendered.find("Deployment", PREFIX + "agent-linux-arm64")).isEmpty();
            assertThat(rendered.find("Deployment", PREFIX + "agent-linux-arm-v6")).isEmpty();
            assertThat(rendered.ofKind("Deployment")).hasSize(5);
        }

        @Test
        void passwordGoesIntoAChartSecretNotIntoTheEnvironment() {
            Node secret = rendered.get("Secret", PREFIX + "postgresql");
            assertThat(secret.string("data.password"))
                    .isEqualTo(java.util.Base64.getEncoder().encodeToString("s3cret-Passw0rd".getBytes()));

            Node controller = rendered.deployment("controller");
            assertThat(controller.container("controller").env())
                    .containsEntry("QUARKUS_DATASOURCE_PASSWORD", "secretKeyRef:" + PREFIX + "postgresql/password");
            assertThat(controller.toString()).doesNotContain("s3cret-Passw0rd");
            assertThat(controller.map("spec.template.metadata.annotations")).containsKey("checksum/postgresql");
        }
    }

    @Nested
    class Keda {

        final Rendered rendered = Chart.values("keda.yaml").render();

        @Test
        void oneScaledObjectPerEnabledPoolOnItsTopicAndGroup() {
            assertThat(rendered.ofKind("ScaledObject")).extracting(s -> s.string("metadata.name")).containsExactlyInAnyOrder(
                    PREFIX + "agent-linux-amd64", PREFIX + "agent-linux-arm64", PREFIX + "agent-linux-arm-v7");

            for (String slug : List.of("linux-amd64", "linux-arm64", "linux-arm-v7")) {
                Node scaled = rendered.get("ScaledObject", PREFIX + "agent-" + slug);
                assertThat(scaled.string("apiVersion")).isEqualTo("keda.sh/v1alpha1");
                assertThat(scaled.string("spec.scaleTargetRef.name")).isEqualTo(PREFIX + "agent-" + slug);
                assertThat(rendered.deployment("agent-" + slug).has("spec.replicas")).isFalse();
                assertThat(scaled.at("spec.minReplicaCount").value()).isEqualTo(0);
                Node trigger = scaled.list("spec.triggers").get(0);
                assertThat(trigger.string("type")).isEqualTo("kafka");
                assertThat(trigger.map("metadata")).contains(
                        entry("topic", "buildfarm.jobs." + slug),
                        entry("consumerGroup", "buildfarm-agents-" + slug),
                        entry("bootstrapServers", "kafka:9092"),
                        entry("offsetResetPolicy", "earliest"));
                assertThat(trigger.has("authenticationRef")).isFalse();
            }
        }

        @Test
        void maxReplicasDefaultsToThePartitionsAndPoolsOverride() {
            assertThat(rendered.get("ScaledObject", PREFIX + "agent-linux-amd64").at("spec.maxReplicaCount").value()).isEqualTo(6);
            Node arm64 = rendered.get("ScaledObject", PREFIX + "agent-linux-arm64");
            assertThat(arm64.at("spec.maxReplicaCount").value()).isEqualTo(3);
            assertThat(arm64.list("spec.triggers").get(0).map("metadata")).containsEntry("lagThreshold", "5");
        }

        @Test
        void aPoolCanOptOut() {
            Rendered optOut = Chart.values("keda.yaml").set("agents.pools.linux-amd64.autoscaling.enabled", false).render();

            assertThat(optOut.find("ScaledObject", PREFIX + "agent-linux-amd64")).isEmpty();
            assertThat(optOut.deployment("agent-linux-amd64").at("spec.replicas").value()).isEqualTo(1);
            assertThat(optOut.find("ScaledObject", PREFIX + "agent-linux-arm64")).isPresent();
        }
    }

    @Test
    void variantLabelCanBeSwitchedOff() {
        Rendered rendered = Chart.values().set("agents.armVariantLabel", "").render();

        assertThat(rendered.deployment("agent-linux-arm-v7").map("spec.template.spec.nodeSelector"))
                .containsOnly(entry("kubernetes.io/os", "linux"), entry("kubernetes.io/arch", "arm"));
    }

    @Test
    void plainTextLogsAreOneValue() {
        Rendered rendered = Chart.values().set("logging.json", false).render();

        assertThat(rendered.deployment("controller").container("controller").env()).containsEntry("BUILDFARM_LOG_JSON", "false");
        assertThat(rendered.deployment("agent-linux-amd64").container("agent").env()).containsEntry("BUILDFARM_LOG_JSON", "false");
    }

    @Test
    void scalingAPoolIsOneValue() {
        Rendered rendered = Chart.values().set("agents.pools.linux-arm-v7.replicas", 3).render();

        assertThat(rendered.deployment("agent-linux-arm-v7").at("spec.replicas").value()).isEqualTo(3);
    }

    @Nested
    class Tls {

        final Rendered rendered = Chart.values().set("tls.enabled", true).set("tls.existingSecret", "farm-tls")
                .set("tls.requireClientCertificate", true).set("agents.docker.sidecar.native", false).render();

        @Test
        void everyServiceServesOnlyTlsFromTheSecret() {
            for (String[] service : new String[][] {{"controller", "controller"}, {"manifest-assembler", "manifest-assembler"},
                    {"agent-linux-amd64", "agent"}}) {
                Node deployment = rendered.deployment(service[0]);
                Node container = deployment.container(service[1]);
                assertThat(container.list("ports")).singleElement().satisfies(p -> {
                    assertThat(p.string("name")).isEqualTo("https");
                    assertThat(p.at("containerPort").value()).isEqualTo(8443);
                });
                assertThat(container.env()).as(service[0])
                        .containsEntry("QUARKUS_CONFIG_LOCATIONS", "/etc/buildfarm/tls-config/" + service[1] + ".properties")
                        .containsEntry("QUARKUS_HTTP_SSL_PORT", "8443")
                        .containsEntry("QUARKUS_HTTP_INSECURE_REQUESTS", "disabled")
                        .containsEntry("BUILDFARM_TLS_REQUIRE_CLIENT_CERTIFICATE", "true");
                assertThat(container.string("readinessProbe.httpGet.scheme")).isEqualTo("HTTPS");
                assertThat(container.string("readinessProbe.httpGet.port")).isEqualTo("https");
                assertThat(deployment.volumes().get("tls")).isEqualTo(Map.of("secret", Map.of("secretName", "farm-tls", "defaultMode", 0400)));
            }
            assertThat(rendered.get("Service", PREFIX + "controller").list("spec.ports")).singleElement()
                    .satisfies(p -> assertThat(p.at("port").value()).isEqualTo(8443));
        }

        @Test
        void clientsReachTheirServersOverTlsWithTheirCertificate() {
            assertThat(rendered.deployment("agent-linux-arm64").container("agent").env())
                    .containsEntry("QUARKUS_GRPC_CLIENTS_CONTROLLER_PORT", "8443");
            assertThat(rendered.deployment("controller").container("controller").env())
                    .containsEntry("QUARKUS_GRPC_CLIENTS_ASSEMBLER_PORT", "8443");
            Map<String, Object> config = rendered.get("ConfigMap", PREFIX + "tls").map("data");
            assertThat((String) config.get("agent.properties"))
                    .contains("quarkus.tls.farm.key-store.pem.0.cert=/etc/buildfarm/tls/tls.crt")
                    .contains("quarkus.http.tls-configuration-name=farm")
                    .contains("quarkus.grpc.clients.controller.ssl.trust-store=/etc/buildfarm/tls/ca.crt")
                    .contains("quarkus.grpc.clients.controller.ssl.certificate=/etc/buildfarm/tls/tls.crt");
            assertThat((String) config.get("controller.properties"))
                    .contains("quarkus.tls.farm.trust-store.pem.certs=/etc/buildfarm/tls/ca.crt")
                    .contains("quarkus.grpc.clients.assembler.ssl.key=/etc/buildfarm/tls/tls.key");
            assertThat((String) config.get("manifest-assembler.properties")).doesNotContain("quarkus.grpc.clients");
        }

        @Test
        void theHealthProbesAndTheEngineSidecarUseTheTlsPort() {
            Node pod = rendered.get("Pod", PREFIX + "test-grpc-health");
            assertThat(pod.container("controller").list("args")).extracting(Node::value)
                    .contains("-addr=" + PREFIX + "controller:8443", "-tls", "-tls-ca-cert=/etc/buildfarm/tls/ca.crt",
                            "-tls-client-cert=/etc/buildfarm/tls/tls.crt");
            assertThat(rendered.deployment("agent-linux-amd64").container("docker").list("lifecycle.preStop.exec.command"))
                    .extracting(Node::value).last().asString().contains("https://127.0.0.1:8443/q/health/live");
        }

        @Test
        void tlsWithoutASecretIsRefused() {
            assertThatThrownBy(() -> Chart.values().set("tls.enabled", true).render())
                    .hasMessageContaining("tls.existingSecret");
        }
    }
}
