package dev.buildfarm.controller.rules;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.FieldMask;
import com.google.protobuf.Message;
import com.google.protobuf.util.FieldMaskUtil;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.api.ApiError.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** AIP-134 update masks: the given paths, or every populated field when none are given; "*" replaces all. */
final class UpdateMasks {

    static final String ALL = "*";

    private UpdateMasks() {
    }

    static List<String> paths(FieldMask mask, Message request, Set<String> updatable) {
        if (mask.getPathsCount() == 0) {
            List<String> inferred = new ArrayList<>();
            populated(request, "", updatable, inferred);
            return inferred;
        }
        List<Violation> violations = new ArrayList<>();
        for (int i = 0; i < mask.getPathsCount(); i++) {
            String path = mask.getPaths(i);
            if (path.equals(ALL) ? mask.getPathsCount() > 1 : !updatable.contains(path)) {
                violations.add(new Violation("update_mask.paths[" + i + "]", "'" + path + "' is not an updatable field; use "
                        + "'*' alone or some of " + updatable.stream().sorted().toList()));
            }
        }
        if (!violations.isEmpty()) {
            throw ApiError.invalid(violations);
        }
        return mask.getPathsList();
    }

    static void apply(List<String> paths, Message request, Message.Builder target) {
        if (paths.contains(ALL)) {
            target.clear().mergeFrom(request);
        } else if (!paths.isEmpty()) {
            FieldMaskUtil.merge(FieldMaskUtil.fromStringList(paths), request, target, new FieldMaskUtil.MergeOptions()
                    .setReplaceMessageFields(true).setReplaceRepeatedFields(true).setReplacePrimitiveFields(true));
        }
    }

    static boolean touches(List<String> paths, String path) {
        return paths.stream().anyMatch(p -> p.equals(ALL) || p.equals(path) || path.startsWith(p + "."));
    }

    private static void populated(Message message, String prefix, Set<String> updatable, List<String> out) {
        for (FieldDescriptor field : message.getAllFields().keySet()) {
            String path = prefix + field.getName();
            boolean hasUpdatableChildren = updatable.stream().anyMatch(p -> p.startsWith(path + "."));
            if (hasUpdatableChildren && field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !field.isRepeated()) {
                populated((Message) message.getField(field), path + ".", updatable, out);
            } else if (updatable.contains(path)) {
                out.add(path); // output-only fields are not updatable and are ignored, as AIP-203 asks
            }
        }
    }
}
