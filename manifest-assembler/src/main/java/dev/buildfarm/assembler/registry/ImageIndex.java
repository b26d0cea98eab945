package dev.buildfarm.assembler.registry;

import dev.buildfarm.common.Platform;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An OCI image index, serialised deterministically: entries in the fixed platform order, every
 * object's keys sorted, no whitespace. Same children and annotations give the same bytes, hence
 * the same digest, so publishing twice is a no-op for the registry and for every puller.
 */
public final class ImageIndex {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    /** One verified child: the platform it serves and the descriptor of its manifest. */
    public record Entry(Platform platform, String mediaType, String digest, long size) {
    }

    private ImageIndex() {
    }

    public static byte[] serialise(List<Entry> entries, Map<String, String> annotations) {
        List<Map<String, Object>> manifests = new ArrayList<>();
        entries.stream().sorted(Comparator.comparingInt(e -> e.platform().order())).forEach(e -> {
            Map<String, Object> platform = new TreeMap<>();
            platform.put("architecture", e.platform().architecture());
            platform.put("os", e.platform().os());
            if (!e.platform().variant().isEmpty()) {
                platform.put("variant", e.platform().variant());
            }
            Map<String, Object> descriptor = new TreeMap<>();
            descriptor.put("mediaType", e.mediaType());
            descriptor.put("digest", e.digest());
            descriptor.put("size", e.size());
            descriptor.put("platform", platform);
            manifests.add(descriptor);
        });
        Map<String, Object> index = new TreeMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        index.put("manifests", manifests);
        if (!annotations.isEmpty()) {
            index.put("annotations", new TreeMap<>(annotations));
        }
        try {
            return JSON.writeValueAsBytes(index);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("maps of strings and numbers always serialise", e);
        }
    }
}
