/**
 * The errors of the vSphere client. Every one carries a stable `code`; none ever contains a
 * password (messages are built from fault types, server fault strings and the URL only).
 */

export type VsphereErrorCode =
  | 'INVALID_LOGIN'
  | 'NOT_AUTHENTICATED'
  | 'INVALID_ARGUMENT'
  | 'SOAP_FAULT'
  | 'TRANSPORT'
  | 'TASK_FAILED';

export class VsphereError extends Error {
  readonly code: VsphereErrorCode;
  constructor(code: VsphereErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VsphereError';
    this.code = code;
  }
}

/** A SOAP fault; `faultType` is the vim25 fault type (`InvalidLogin`, `ManagedObjectNotFound`...). */
export class SoapFault extends VsphereError {
  readonly faultType: string;
  /** The fault's detail, parsed like any other value (may be undefined). */
  readonly detail: unknown;
  constructor(faultType: string, message: string, detail?: unknown, code: VsphereErrorCode = 'SOAP_FAULT') {
    super(code, message ? `${faultType}: ${message}` : faultType);
    this.name = 'SoapFault';
    this.faultType = faultType;
    this.detail = detail;
  }
}

/** Wrong username or password (SessionManager.Login refused). */
export class InvalidLogin extends SoapFault {
  constructor(message = 'Login failure', detail?: unknown) {
    super('InvalidLogin', `${message} (check the username and password)`, detail, 'INVALID_LOGIN');
    this.name = 'InvalidLogin';
  }
}

/** The session is gone (expired, logged out, or never established). */
export class NotAuthenticated extends SoapFault {
  constructor(message = 'the session is not authenticated', detail?: unknown) {
    super('NotAuthenticated', message, detail, 'NOT_AUTHENTICATED');
    this.name = 'NotAuthenticated';
  }
}

/** The server refused an argument (bad moRef, bad spec...). */
export class InvalidArgument extends SoapFault {
  constructor(faultType: string, message: string, detail?: unknown) {
    super(faultType, message, detail, 'INVALID_ARGUMENT');
    this.name = 'InvalidArgument';
  }
}

/** A vSphere task ended in the error state. */
export class TaskFailed extends VsphereError {
  readonly faultType: string | null;
  constructor(message: string, faultType: string | null) {
    super('TASK_FAILED', message);
    this.name = 'TaskFailed';
    this.faultType = faultType;
  }
}

export type TransportReason = 'unreachable' | 'timeout' | 'certificate' | 'notVsphere';

/** The server could not be talked to: the message says what to do about it. */
export class TransportError extends VsphereError {
  readonly reason: TransportReason;
  constructor(reason: TransportReason, message: string, options?: { cause?: unknown }) {
    super('TRANSPORT', message, options);
    this.name = 'TransportError';
    this.reason = reason;
  }
}

const invalidArgumentTypes = new Set([
  'InvalidArgument',
  'InvalidRequest',
  'InvalidType',
  'InvalidProperty',
  'ManagedObjectNotFound',
  'MethodNotFound',
]);

/** Maps a fault type and message to the matching error class. */
export function faultToError(faultType: string, message: string, detail?: unknown): SoapFault {
  if (faultType === 'InvalidLogin') return new InvalidLogin(message || undefined, detail);
  if (faultType === 'NotAuthenticated') return new NotAuthenticated(message || undefined, detail);
  if (invalidArgumentTypes.has(faultType)) return new InvalidArgument(faultType, message, detail);
  return new SoapFault(faultType, message, detail);
}
