package io.iiot.devicehub.command;

/**
 * This replica in the connection registry.
 *
 * @param id unique per running replica (config {@code replica.id}, generated at start when empty)
 * @param grpcAddress host:port other replicas reach this one's gRPC server at ({@code replica.advertised-grpc-address})
 */
public record ReplicaIdentity(String id, String grpcAddress) {}
