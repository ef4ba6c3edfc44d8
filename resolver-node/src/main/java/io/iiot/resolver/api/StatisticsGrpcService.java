package io.iiot.resolver.api;

import com.google.type.Date;
import io.grpc.stub.StreamObserver;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.storage.StatisticsStore;
import io.iiot.resolver.v1.DailyStatistics;
import io.iiot.resolver.v1.ListDailyStatisticsRequest;
import io.iiot.resolver.v1.ListDailyStatisticsResponse;
import io.iiot.resolver.v1.StatisticsServiceGrpc;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** {@code iiot.resolver.v1.StatisticsService}: counters per prefix per day (enterprises: their own prefixes). */
public final class StatisticsGrpcService extends StatisticsServiceGrpc.StatisticsServiceImplBase {
  private final StatisticsStore store;
  private final PrefixAccess access;

  public StatisticsGrpcService(StatisticsStore store, PrefixAccess access) {
    this.store = store;
    this.access = access;
  }

  @Override
  public void listDailyStatistics(ListDailyStatisticsRequest req, StreamObserver<ListDailyStatisticsResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      String prefix = IdentifierNames.prefixOfParent(req.getParent()).or(() -> Calls.id(req.getParent(), "prefixes"))
          .orElseThrow(() -> GrpcErrors.badField("parent", "INVALID_NAME", "must be prefixes/{prefix}"));
      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      LocalDate end = req.hasEndDay() ? date(req.getEndDay(), "end_day") : today;
      LocalDate start = req.hasStartDay() ? date(req.getStartDay(), "start_day") : end.minusDays(29);
      if (start.isAfter(end) || ChronoUnit.DAYS.between(start, end) > 365) {
        throw GrpcErrors.badField("start_day", "RANGE", "start_day must not be after end_day, at most 366 days");
      }
      return access.mayRead(p, prefix).compose(x -> store.days(Handles.fold(prefix), start, end)).map(days -> {
        ListDailyStatisticsResponse.Builder b = ListDailyStatisticsResponse.newBuilder();
        for (StatisticsStore.Day d : days) {
          b.addDays(DailyStatistics.newBuilder().setDay(Date.newBuilder().setYear(d.day().getYear())
              .setMonth(d.day().getMonthValue()).setDay(d.day().getDayOfMonth())).setRegistrations(d.registrations())
              .setResolutions(d.resolutions()));
          b.setTotalRegistrations(b.getTotalRegistrations() + d.registrations());
          b.setTotalResolutions(b.getTotalResolutions() + d.resolutions());
        }
        return b.build();
      });
    }, out);
  }

  private static LocalDate date(Date d, String field) {
    try {
      return LocalDate.of(d.getYear(), d.getMonth(), d.getDay());
    } catch (DateTimeException e) {
      throw GrpcErrors.badField(field, "INVALID_DATE", e.getMessage());
    }
  }
}
