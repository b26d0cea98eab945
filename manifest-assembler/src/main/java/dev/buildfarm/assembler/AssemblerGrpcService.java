package dev.buildfarm.assembler;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import dev.buildfarm.api.v1.ManifestAssemblerServiceGrpc;
import dev.buildfarm.api.v1.PublishIndexRequest;
import dev.buildfarm.api.v1.PublishIndexResponse;
import dev.buildfarm.assembler.registry.RegistryException;
import dev.buildfarm.assembler.registry.RegistryUnavailableException;
import dev.buildfarm.common.LogContext;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import org.jboss.logging.Logger;

/**
 * gRPC face of {@link IndexPublisher}. Blocking: publishing is a handful of HTTP calls to the
 * registry, which must not run on the event loop. Errors become google.rpc.Status with details.
 */
@GrpcService
public class AssemblerGrpcService extends ManifestAssemblerServiceGrpc.ManifestAssemblerServiceImplBase {
    private static final Logger LOG = Logger.getLogger(AssemblerGrpcService.class);
    static final String BUILD_ANNOTATION = "dev.buildfarm.build";

    private final IndexPublisher publisher;

    public AssemblerGrpcService(IndexPublisher publisher) {
        this.publisher = publisher;
    }

    @Override
    @Blocking
    public void publishIndex(PublishIndexRequest request, StreamObserver<PublishIndexResponse> response) {
        // The controller names the build in the index's annotations: the log context of this publication.
        try (LogContext context = LogContext.open().build(request.getAnnotationsOrDefault(BUILD_ANNOTATION, ""))) {
            PublishIndexResponse result;
            try {
                result = publisher.publish(request);
            } catch (RuntimeException e) {
                response.onError(toStatus(e));
                return;
            }
            response.onNext(result);
            response.onCompleted();
        }
    }

    static StatusRuntimeException toStatus(RuntimeException e) {
        com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder().setMessage(String.valueOf(e.getMessage()));
        if (e instanceof InvalidRequestException invalid) {
            status.setCode(Code.INVALID_ARGUMENT_VALUE).addDetails(Any.pack(BadRequest.newBuilder()
                    .addFieldViolations(BadRequest.FieldViolation.newBuilder()
                            .setField(invalid.field()).setDescription(invalid.rule()))
                    .build()));
        } else if (e instanceof ChildRejectedException rejected) {
            status.setCode(Code.FAILED_PRECONDITION_VALUE).addDetails(Any.pack(PreconditionFailure.newBuilder()
                    .addViolations(PreconditionFailure.Violation.newBuilder()
                            .setType("CHILD").setSubject(rejected.child()).setDescription(e.getMessage()))
                    .build()));
        } else if (e instanceof RegistryUnavailableException) {
            status.setCode(Code.UNAVAILABLE_VALUE);
        } else if (e instanceof RegistryException registry) {
            // The registry refused a request we believed valid (e.g. a PUT): retrying will not help.
            status.setCode(registry.status() == 401 || registry.status() == 403
                    ? Code.PERMISSION_DENIED_VALUE : Code.FAILED_PRECONDITION_VALUE);
        } else {
            LOG.error("PublishIndex failed unexpectedly", e);
            status.setCode(Code.INTERNAL_VALUE).setMessage("internal error: " + e);
        }
        if (status.getCode() != Code.INTERNAL_VALUE) {
            LOG.infof("PublishIndex refused: %s", e.getMessage());
        }
        return StatusProto.toStatusRuntimeException(status.build());
    }
}
