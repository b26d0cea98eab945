package dev.buildfarm.controller.api;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;

/**
 * An error meant for the caller: a gRPC code, a message that names the field and the rule, and
 * the same facts as google.rpc details (BadRequest field violations, ErrorInfo reason).
 */
public class ApiError extends RuntimeException {

    public record Violation(String field, String description) {
        @Override
        public String toString() {
            return field + ": " + description;
        }
    }

    private final Code code;
    private final String reason;
    private final List<Violation> violations;

    private ApiError(Code code, String reason, String message, List<Violation> violations) {
        super(message);
        this.code = code;
        this.reason = reason;
        this.violations = List.copyOf(violations);
    }

    public static ApiError invalid(List<Violation> violations) {
        String message = String.join("; ", violations.stream().map(Violation::toString).toList());
        return new ApiError(Code.INVALID_ARGUMENT, "INVALID_FIELD", message, violations);
    }

    public static ApiError invalid(String field, String description) {
        return invalid(List.of(new Violation(field, description)));
    }

    public static ApiError failedPrecondition(String reason, String field, String description) {
        return new ApiError(Code.FAILED_PRECONDITION, reason, field + ": " + description,
                List.of(new Violation(field, description)));
    }

    public static ApiError failedPrecondition(String reason, String message) {
        return new ApiError(Code.FAILED_PRECONDITION, reason, message, List.of());
    }

    public static ApiError resourceExhausted(String reason, String field, String description) {
        return new ApiError(Code.RESOURCE_EXHAUSTED, reason, field + ": " + description,
                List.of(new Violation(field, description)));
    }

    public static ApiError aborted(String reason, String message) {
        return new ApiError(Code.ABORTED, reason, message, List.of());
    }

    public static ApiError notFound(String message) {
        return new ApiError(Code.NOT_FOUND, "NOT_FOUND", message, List.of());
    }

    public Code code() {
        return code;
    }

    public List<Violation> violations() {
        return violations;
    }

    public StatusRuntimeException toStatusRuntimeException() {
        com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(getMessage())
                .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain("buildfarm.dev").build()));
        if (!violations.isEmpty()) {
            BadRequest.Builder badRequest = BadRequest.newBuilder();
            violations.forEach(v -> badRequest.addFieldViolationsBuilder().setField(v.field()).setDescription(v.description()));
            status.addDetails(Any.pack(badRequest.build()));
        }
        return StatusProto.toStatusRuntimeException(status.build());
    }
}
