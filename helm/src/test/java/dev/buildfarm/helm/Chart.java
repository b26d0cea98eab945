package dev.buildfarm.helm;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/** The chart under test, rendered or linted through helm-java (Helm embedded, no cluster). */
final class Chart {

    static final String RELEASE = "prod";
    static final Path DIR = Paths.get(System.getProperty("buildfarm.chart.dir", "buildfarm")).toAbsolutePath();

    private Chart() {
    }

    /** A value set: files from src/test/resources/values, then single --set values. */
    static Values values(String... files) {
        return new Values(List.of(files), new LinkedHashMap<>());
    }

    record Values(List<String> files, Map<String, Object> sets) {
        Values set(String key, Object value) {
            sets.put(key, value);
            return this;
        }

        Rendered render() {
            TemplateCommand template = new Helm(renderable()).template().withName(RELEASE).withNamespace("builds");
            for (String file : files) {
                template = template.withValuesFile(resource(file));
            }
            for (Map.Entry<String, Object> set : sets.entrySet()) {
                template = template.set(set.getKey(), set.getValue());
            }
            return Rendered.parse(template.call());
        }
    }

    /** NOTES.txt as `helm install --dry-run` prints it (helm-java's template leaves it out). */
    static String notes(String... files) {
        InstallCommand install = new Helm(DIR).install().withName(RELEASE).withNamespace("builds").dryRun().clientOnly();
        for (String file : files) {
            install = install.withValuesFile(resource(file));
        }
        String output = install.call().getOutput();
        int notes = output.indexOf("NOTES:");
        if (notes < 0) {
            throw new AssertionError("no NOTES in " + output);
        }
        return output.substring(notes);
    }

    private static final String HOOKS_CONFIG_MAP = "chart-test-rendered-hooks";
    private static Path renderable;

    /**
     * helm-java's template returns the release manifest only, without hooks (the Helm CLI prints both),
     * so a `helm test` Pod would never be seen. The chart is therefore rendered from a copy with one more
     * template: a ConfigMap whose data holds every templates/tests/* file rendered, base64-encoded.
     * {@link Rendered#parse} unpacks it into ordinary objects and drops the ConfigMap.
     */
    private static synchronized Path renderable() {
        if (renderable == null) {
            try {
                Path copy = copyChart(Files.createTempDirectory(Files.createDirectories(Paths.get("target")), "chart-under-test"));
                StringBuilder exposer = new StringBuilder("""
                        apiVersion: v1
                        kind: ConfigMap
                        metadata:
                          name: %s
                        data:
                        """.formatted(HOOKS_CONFIG_MAP));
                try (Stream<Path> tests = Files.list(DIR.resolve("templates/tests"))) {
                    for (Path test : tests.sorted().toList()) {
                        String name = test.getFileName().toString();
                        exposer.append("  %s: {{ include (print $.Template.BasePath \"/tests/%s\") . | b64enc | quote }}\n"
                                .formatted(name, name));
                    }
                }
                Files.writeString(copy.resolve("templates/zz-chart-test-rendered-hooks.yaml"), exposer.toString());
                renderable = copy;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return renderable;
    }

    private static Path copyChart(Path parent) throws IOException {
        Path copy = parent.resolve("buildfarm");
        try (Stream<Path> paths = Files.walk(DIR)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Path target = copy.resolve(DIR.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
        return copy;
    }

    /** Strict lint of the chart with its own values.yaml. */
    static LintResult lint() {
        return new Helm(DIR).lint().strict().call();
    }

    /**
     * Strict lint with a value set. helm-java's lint takes no values (no withValuesFile/set), so the chart
     * is copied and its values.yaml replaced by the defaults merged with the given file.
     */
    static LintResult lintWith(Path tempDir, String valuesFile) throws IOException {
        Path copy = copyChart(tempDir);
        Map<String, Object> merged = merge(load(DIR.resolve("values.yaml")), load(resource(valuesFile)));
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        try (Writer out = Files.newBufferedWriter(copy.resolve("values.yaml"))) {
            new Yaml(options).dump(merged, out);
        }
        return new Helm(copy).lint().strict().call();
    }

    static Path resource(String name) {
        Path path = Paths.get("src/test/resources/values").resolve(name).toAbsolutePath();
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("no values file " + path);
        }
        return path;
    }

    /** Helm's coalescing: maps merge key by key, anything else (lists too) replaces, null deletes. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> override) {
        Map<String, Object> result = new LinkedHashMap<>(base);
        override.forEach((key, value) -> {
            Object current = result.get(key);
            if (value == null) {
                result.remove(key);
            } else if (value instanceof Map && current instanceof Map) {
                result.put(key, merge((Map<String, Object>) current, (Map<String, Object>) value));
            } else {
                result.put(key, value);
            }
        });
        return result;
    }

    private static Map<String, Object> load(Path file) {
        try {
            return yaml().load(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        return new Yaml(new SafeConstructor(options), new Representer(new DumperOptions()), new DumperOptions(), options);
    }

    /** The rendered manifests, one map per YAML document. */
    record Rendered(List<Map<String, Object>> objects) {

        @SuppressWarnings("unchecked")
        static Rendered parse(String manifests) {
            List<Map<String, Object>> objects = new ArrayList<>();
            for (Object document : yaml().loadAll(manifests)) {
                if (document == null) {
                    continue;
                }
                Map<String, Object> object = (Map<String, Object>) document;
                Node node = new Node(object);
                if ("ConfigMap".equals(object.get("kind")) && HOOKS_CONFIG_MAP.equals(node.string("metadata.name"))) {
                    for (Object encoded : node.map("data").values()) {
                        String hooks = new String(Base64.getDecoder().decode((String) encoded), StandardCharsets.UTF_8);
                        objects.addAll(parse(hooks).objects());
                    }
                } else {
                    objects.add(object);
                }
            }
            return new Rendered(objects);
        }

        List<Node> ofKind(String kind) {
            return objects.stream().filter(o -> kind.equals(o.get("kind"))).map(Node::new).toList();
        }

        Optional<Node> find(String kind, String name) {
            return ofKind(kind).stream().filter(o -> name.equals(o.string("metadata.name"))).findFirst();
        }

        Node get(String kind, String name) {
            return find(kind, name).orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in "
                    + objects.stream().map(o -> o.get("kind") + "/" + ((Map<?, ?>) o.get("metadata")).get("name")).toList()));
        }

        Node deployment(String suffix) {
            return get("Deployment", RELEASE + "-buildfarm-" + suffix);
        }
    }

    /** A position in a rendered object; paths are dotted keys, e.g. "spec.template.spec". */
    record Node(Object value) {

        Node at(String path) {
            Object current = value;
            for (String key : path.split("\\.")) {
                if (!(current instanceof Map<?, ?> map) || !map.containsKey(key)) {
                    throw new AssertionError("no '" + key + "' on the way to '" + path + "' in " + value);
                }
                current = map.get(key);
            }
            return new Node(current);
        }

        boolean has(String path) {
            try {
                at(path);
                return true;
            } catch (AssertionError e) {
                return false;
            }
        }

        String string(String path) {
            return Objects.toString(at(path).value, null);
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> map(String path) {
            return (Map<String, Object>) at(path).value;
        }

        @SuppressWarnings("unchecked")
        List<Node> list(String path) {
            return ((List<Object>) at(path).value).stream().map(Node::new).toList();
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> asMap() {
            return (Map<String, Object>) value;
        }

        /** A container (or init container) of a workload's pod template, or of a Pod, by name. */
        Node container(String name) {
            return containers().stream().filter(c -> name.equals(c.string("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no container " + name));
        }

        List<Node> containers() {
            Node spec = podSpec();
            List<Node> all = new ArrayList<>(spec.list("containers"));
            if (spec.has("initContainers")) {
                all.addAll(spec.list("initContainers"));
            }
            return all;
        }

        Node podSpec() {
            return has("spec.template.spec") ? at("spec.template.spec") : at("spec");
        }

        /** A container's environment: name to value, or to "secretKeyRef:name/key", or "fieldRef:path". */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (Node variable : list("env")) {
                String value;
                if (variable.has("value")) {
                    value = variable.string("value");
                } else if (variable.has("valueFrom.secretKeyRef")) {
                    value = "secretKeyRef:" + variable.string("valueFrom.secretKeyRef.name") + "/"
                            + variable.string("valueFrom.secretKeyRef.key");
                } else {
                    value = "fieldRef:" + variable.string("valueFrom.fieldRef.fieldPath");
                }
                env.put(variable.string("name"), value);
            }
            return env;
        }

        /** Names of the pod's volumes, mapped to their source (the volume minus its name). */
        Map<String, Map<String, Object>> volumes() {
            Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
            for (Node volume : podSpec().list("volumes")) {
                Map<String, Object> source = new LinkedHashMap<>(volume.asMap());
                source.remove("name");
                volumes.put(volume.string("name"), source);
            }
            return volumes;
        }
    }
}
