package io.iiot.resolver.domain.registration;

import io.iiot.resolver.domain.HandleRecord;
import java.util.Map;

/**
 * A registered identifier read back: its template version and field values, plus the whole Handle record (values
 * added over the Handle protocol outside the template are kept there).
 */
public record Registered(String handle, TemplateRef template, Map<String, String> values, HandleRecord record) {}
