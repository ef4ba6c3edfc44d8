package io.iiot.resolver.domain.registration;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.template.MetadataTemplate;
import io.iiot.resolver.domain.template.TemplateField;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a registered identifier looks as a Handle record: each template field at its own index and value type (UTF-8
 * text), the template reference {@code <id>@<version>} at {@link MetadataTemplate#TEMPLATE_INDEX} (type
 * {@code TEMPLATE}), and an {@code HS_ADMIN} at index 100 naming the enterprise prefix's admin {@code 300:0.NA/<prefix>}
 * so the enterprise can also administer the identifier over the Handle protocol.
 */
public final class IdentifierValues {
  public static final int ADMIN_INDEX = 100;
  public static final int ADMIN_KEY_INDEX = 300;
  /** What the prefix admin may do on its identifiers (all but derived prefixes, which are not handle-level). */
  static final int ADMIN_PERMISSIONS = AdminRecord.DELETE_HANDLE | AdminRecord.MODIFY_VALUE | AdminRecord.REMOVE_VALUE
      | AdminRecord.ADD_VALUE | AdminRecord.MODIFY_ADMIN | AdminRecord.REMOVE_ADMIN | AdminRecord.ADD_ADMIN
      | AdminRecord.READ_VALUE;

  private IdentifierValues() {}

  /** The Handle values of an identifier whose {@code values} already passed the template's validation. */
  public static List<HandleValue> toHandleValues(String handle, MetadataTemplate template,
      Map<String, String> values, int nowSeconds) {
    List<HandleValue> out = new ArrayList<>();
    for (TemplateField f : template.fields()) {
      String v = values.get(f.name());
      if (v != null && !v.isEmpty()) {
        out.add(HandleValue.of(f.index(), f.valueType(), v).withTimestamp(nowSeconds));
      }
    }
    out.add(HandleValue.of(ADMIN_INDEX, "HS_ADMIN", new AdminRecord(ADMIN_PERMISSIONS,
        Handles.prefixHandleOf(Handles.prefix(handle)), ADMIN_KEY_INDEX).encode()).withTimestamp(nowSeconds));
    out.add(HandleValue.of(MetadataTemplate.TEMPLATE_INDEX, MetadataTemplate.TEMPLATE_TYPE, template.reference())
        .withTimestamp(nowSeconds));
    return out;
  }

  /** The template reference stored with a registered identifier, or empty for a handle not made by registration. */
  public static Optional<TemplateRef> templateOf(HandleRecord record) {
    for (HandleValue v : record.values()) {
      if (v.index() == MetadataTemplate.TEMPLATE_INDEX && v.hasType(MetadataTemplate.TEMPLATE_TYPE)) {
        return TemplateRef.parse(v.dataAsString());
      }
    }
    return Optional.empty();
  }

  /**
   * The field values of a record read back by the template it was registered with: a field's value is the one at
   * its index with its value type (a value changed over the Handle protocol to another type is not the field).
   */
  public static Map<String, String> fieldValues(MetadataTemplate template, HandleRecord record) {
    Map<String, String> out = new LinkedHashMap<>();
    for (TemplateField f : template.fields()) {
      for (HandleValue v : record.values()) {
        if (v.index() == f.index() && v.hasType(f.valueType())) {
          out.put(f.name(), v.dataAsString());
        }
      }
    }
    return out;
  }

  /** Indexes that template fields may occupy and that are absent from {@code values} (cleared on update). */
  public static int[] absentFieldIndexes(MetadataTemplate template, Map<String, String> values) {
    return template.fields().stream().filter(f -> values.get(f.name()) == null || values.get(f.name()).isEmpty())
        .mapToInt(TemplateField::index).toArray();
  }
}
