package dev.buildfarm.controller.api;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
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
    private java.time.Duration retryAfter;

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

    /** RESOURCE_EXHAUSTED that a client may retry after the given delay (google.rpc.RetryInfo). */
    public static ApiError resourceExhausted(String reason, String message, java.time.Duration retryAfter) {
        ApiError error = new ApiError(Code.RESOURCE_EXHAUSTED, reason, message, List.of());
        error.retryAfter = retryAfter;
        return error;
    }

    public static ApiError aborted(String reason, String message) {
        return new ApiError(Code.ABORTED, reason, message, List.of());
    }

    public static ApiError notFound(String message) {
        return new ApiError(Code.NOT_FOUND, "NOT_FOUND", message, List.of());
    }

    /** The caller's token does not reach what it asks for: another namespace, or too weak a role. */
    public static ApiError permissionDenied(String message) {
        return new ApiError(Code.PERMISSION_DENIED, "PERMISSION_DENIED", message, List.of());
    }

    public static ApiError alreadyExists(String message) {
        return new ApiError(Code.ALREADY_EXISTS, "ALREADY_EXISTS", message, List.of());
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
        if (retryAfter != null) {
            status.addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
                    .setSeconds(retryAfter.getSeconds()).setNanos(retryAfter.getNano())).build()));
        }
        if (!violations.isEmpty()) {
            BadRequest.Builder badRequest = BadRequest.newBuilder();
            violations.forEach(v -> badRequest.addFieldViolationsBuilder().setField(v.field()).setDescription(v.description()));
            status.addDetails(Any.pack(badRequest.build()));
        }
        return StatusProto.toStatusRuntimeException(status.build());
    }
}
