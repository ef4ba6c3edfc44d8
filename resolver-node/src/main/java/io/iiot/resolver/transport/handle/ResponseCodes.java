package io.iiot.resolver.transport.handle;

/** Opcodes, response codes and flag bits of the Handle protocol (RFC 3652 as extended by CNRI's 9.x client). */
public final class ResponseCodes {
  private ResponseCodes() {}

  public static final int OC_RESOLUTION = 1;
  public static final int OC_GET_SITE_INFO = 2;
  public static final int OC_CREATE_HANDLE = 100;
  public static final int OC_DELETE_HANDLE = 101;
  public static final int OC_ADD_VALUE = 102;
  public static final int OC_REMOVE_VALUE = 103;
  public static final int OC_MODIFY_VALUE = 104;
  public static final int OC_LIST_HANDLES = 105;
  public static final int OC_RESPONSE_TO_CHALLENGE = 200;
  public static final int OC_VERIFY_CHALLENGE = 201;
  public static final int OC_SESSION_SETUP = 400;
  public static final int OC_SESSION_TERMINATE = 401;

  public static final int RC_SUCCESS = 1;
  public static final int RC_ERROR = 2;
  public static final int RC_SERVER_TOO_BUSY = 3;
  public static final int RC_PROTOCOL_ERROR = 4;
  public static final int RC_OPERATION_NOT_SUPPORTED = 5;
  public static final int RC_RECURSION_COUNT_TOO_HIGH = 6;
  public static final int RC_HANDLE_NOT_FOUND = 100;
  public static final int RC_HANDLE_ALREADY_EXISTS = 101;
  public static final int RC_INVALID_HANDLE = 102;
  public static final int RC_VALUES_NOT_FOUND = 200;
  public static final int RC_VALUE_ALREADY_EXISTS = 201;
  public static final int RC_INVALID_VALUE = 202;
  public static final int RC_SERVER_NOT_RESP = 301;
  public static final int RC_SERVICE_REFERRAL = 302;
  public static final int RC_PREFIX_REFERRAL = 303;
  public static final int RC_INVALID_ADMIN = 400;
  public static final int RC_INSUFFICIENT_PERMISSIONS = 401;
  public static final int RC_AUTHENTICATION_NEEDED = 402;
  public static final int RC_AUTHENTICATION_FAILED = 403;
  public static final int RC_INVALID_CREDENTIAL = 404;
  public static final int RC_AUTHEN_TIMEOUT = 405;
  public static final int RC_AUTHEN_ERROR = 406;
  public static final int RC_SESSION_TIMEOUT = 500;
  public static final int RC_SESSION_FAILED = 501;
  public static final int RC_INVALID_SESSION_KEY = 502;
  public static final int RC_INVALID_SESSIONSETUP_REQUEST = 504;
  public static final int RC_SESSION_MESSAGE_REJECTED = 505;

  public static final int FLAG_AT = 0x80000000;
  public static final int FLAG_CT = 0x40000000;
  public static final int FLAG_ENC = 0x20000000;
  public static final int FLAG_REC = 0x10000000;
  public static final int FLAG_CA = 0x08000000;
  public static final int FLAG_CN = 0x04000000;
  public static final int FLAG_KA = 0x02000000;
  public static final int FLAG_PO = 0x01000000;
  public static final int FLAG_RD = 0x00800000;
  public static final int FLAG_OVRW = 0x00400000;
  public static final int FLAG_MINT = 0x00200000;
  public static final int FLAG_DNRF = 0x00100000;

  /** Whether the client's decoder knows this code (it throws on any other). */
  public static boolean isKnown(int rc) {
    return switch (rc) {
      case 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 200, 201, 202, 300, 301, 302, 303, 400, 401, 402, 403, 404, 405, 406,
          500, 501, 502, 503, 504, 505 -> true;
      default -> false;
    };
  }
}
