package io.iiot.platform.domain;

/**
 * One invalid field of a request, as {@code google.rpc.BadRequest.FieldViolation} reports it.
 *
 * @param field path in the request, e.g. {@code machines[12].identifier_values[SERIAL_NO]}
 * @param description what is wrong and what is expected, in English
 */
public record FieldViolation(String field, String description) {}
