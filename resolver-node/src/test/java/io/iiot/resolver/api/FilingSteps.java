package io.iiot.resolver.api;

import io.grpc.Channel;
import io.iiot.resolver.ResolverNodeHarness;
import io.iiot.resolver.v1.ApprovePrefixApplicationRequest;
import io.iiot.resolver.v1.CreateEnterpriseRequest;
import io.iiot.resolver.v1.CreateEnterpriseResponse;
import io.iiot.resolver.v1.CreatePrefixApplicationRequest;
import io.iiot.resolver.v1.Enterprise;
import io.iiot.resolver.v1.EnterpriseRecords;
import io.iiot.resolver.v1.EnterpriseServiceGrpc;
import io.iiot.resolver.v1.PrefixApplication;
import io.iiot.resolver.v1.PrefixApplicationServiceGrpc;
import java.util.concurrent.TimeUnit;

/** Filing steps the registration tests need: an enterprise, its application, the operator's approval. */
public final class FilingSteps {
  private static final String ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  private static final int[] WEIGHTS = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

  private FilingSteps() {}

  /** A valid GB 32100 code: {@code 91} + region 350100 + the 9-character body + the check character. */
  public static String creditCode(String body9) {
    String first = "91350100" + body9;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += ALPHABET.indexOf(first.charAt(i)) * WEIGHTS[i];
    }
    int c = 31 - sum % 31;
    return first + ALPHABET.charAt(c == 31 ? 0 : c);
  }

  public static EnterpriseRecords records(String name, String body9) {
    return EnterpriseRecords.newBuilder().setName(name).setCreditCode(creditCode(body9))
        .setAddress("福建省福州市鼓楼区工业路 1 号").setContact("张工 13800000000").setIndustryCategory("B")
        .setIndustryCode("0610").build();
  }

  public static CreateEnterpriseResponse enterprise(Channel ch, String privilegedToken, String name, String body9) {
    return ResolverNodeHarness.as(EnterpriseServiceGrpc.newBlockingStub(ch), privilegedToken)
        .withDeadlineAfter(30, TimeUnit.SECONDS).createEnterprise(CreateEnterpriseRequest.newBuilder()
            .setEnterprise(Enterprise.newBuilder().setDisplayName(name).setCreditCode(creditCode(body9))).build());
  }

  /** Creates an enterprise, applies for a prefix and approves it as the operator ({@code prefix} "" = next free). */
  public static PrefixApplication approvedPrefix(Channel ch, String operatorToken, String name, String body9,
      String prefix) {
    CreateEnterpriseResponse e = enterprise(ch, operatorToken, name, body9);
    var apps = ResolverNodeHarness.as(PrefixApplicationServiceGrpc.newBlockingStub(ch), operatorToken)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
    PrefixApplication a = apps.createPrefixApplication(CreatePrefixApplicationRequest.newBuilder()
        .setParent(e.getEnterprise().getName()).setApplication(PrefixApplication.newBuilder()
            .setRecords(records(name, body9))).build());
    return apps.approvePrefixApplication(ApprovePrefixApplicationRequest.newBuilder().setName(a.getName())
        .setPrefix(prefix).build());
  }
}
