package dev.buildfarm.controller.rules;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** Errors ApiError has no factory for, in the same shape (message plus ErrorInfo). */
final class RuleErrors {

    private RuleErrors() {
    }

    static StatusRuntimeException alreadyExists(String message) {
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Code.ALREADY_EXISTS.getNumber())
                .setMessage(message)
                .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("ALREADY_EXISTS").setDomain("buildfarm.dev").build()))
                .build());
    }
}
