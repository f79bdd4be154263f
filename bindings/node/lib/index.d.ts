// TypeScript declarations for momento-auth (lib/index.js). The C prototypes the package binds are
// held to momento/auth.h by bindings/check_drift.py; these declarations to lib/index.js by
// test/types.test.js (every export declared, nothing declared that is not exported).
/// <reference types="node" />
import { EventEmitter } from 'node:events';

export declare const libraryVersion: string;
export declare const libraryPath: string;

export interface EndpointOptions {
  /** "host:port" for every service instead of the endpoints the key names. */
  endpoint?: string;
  /** TLS to `endpoint` (true unless false is given). */
  secure?: boolean;
}

export declare class CredentialProvider {
  private constructor();
  static fromString(key: string, opts?: EndpointOptions): CredentialProvider;
  static fromDisposableToken(token: string, opts?: EndpointOptions): CredentialProvider;
  static fromApiKeyV2(apiKey: string, endpoint: string, opts?: EndpointOptions): CredentialProvider;
  static fromEnvironmentVariable(keyVariable?: string, opts?: EndpointOptions & { endpointVariable?: string }): CredentialProvider;
  static fromFile(path: string, opts?: EndpointOptions): CredentialProvider;
  static local(opts?: { host?: string; port?: number }): CredentialProvider;
  readonly kind: 'v1_envelope' | 'v2_api_key' | 'legacy_jwt' | 'session_token' | 'local';
  readonly baseEndpoint: string;
  /** A secret: the refresh token that came with a token file ('' when none). */
  readonly refreshToken: string;
  /** null: never expires; undefined: unknown. */
  readonly expiresAt: Date | null | undefined;
  toString(): string;
  toJSON(): string;
}

export declare class ExpiresIn {
  private constructor();
  readonly unit: number;
  readonly amount: number;
  static never(): ExpiresIn;
  static seconds(n: number): ExpiresIn;
  static minutes(n: number): ExpiresIn;
  static hours(n: number): ExpiresIn;
  static days(n: number): ExpiresIn;
  static atEpoch(when: Date | number): ExpiresIn;
}

export declare class PredefinedScope {
  private constructor();
  readonly name: string;
}
export declare const AllDataReadWrite: PredefinedScope;
export declare const AllDataReadOnly: PredefinedScope;
export declare const SuperUser: PredefinedScope;

export declare const AllCaches: { readonly all: 'caches' };
export declare const AllTopics: { readonly all: 'topics' };
export declare const AllFunctions: { readonly all: 'functions' };
export declare const AllItems: { readonly all: 'items' };

export declare const CacheRole: {
  readonly ReadWrite: 'readwrite'; readonly ReadOnly: 'readonly'; readonly WriteOnly: 'writeonly'; readonly PermitNone: 'permitnone';
};
export declare const TopicRole: {
  readonly PublishSubscribe: 'publishsubscribe'; readonly SubscribeOnly: 'subscribeonly'; readonly PublishOnly: 'publishonly'; readonly PermitNone: 'permitnone';
};
export declare const FunctionRole: { readonly Invoke: 'invoke'; readonly PermitNone: 'permitnone' };

export type CacheSelector = string | typeof AllCaches;
export type NameSelector<All> = string | { namePrefix: string } | All;
export type CachePermission = { role: (typeof CacheRole)[keyof typeof CacheRole]; cache?: CacheSelector };
export type TopicPermission = { role: (typeof TopicRole)[keyof typeof TopicRole]; cache?: CacheSelector; topic: NameSelector<typeof AllTopics> };
export type FunctionPermission = { role: (typeof FunctionRole)[keyof typeof FunctionRole]; cache?: CacheSelector; func: NameSelector<typeof AllFunctions> };
export type CacheItemPermission = {
  role: (typeof CacheRole)[keyof typeof CacheRole];
  cache?: CacheSelector;
  item: { key: string | Uint8Array } | { keyPrefix: string | Uint8Array } | typeof AllItems;
};
export interface PermissionScope {
  permissions: Array<CachePermission | TopicPermission | FunctionPermission>;
}
export interface DisposableTokenScope {
  permissions: Array<CachePermission | TopicPermission | FunctionPermission | CacheItemPermission>;
}

export declare const PermissionScopes: {
  cacheReadWrite(cache: CacheSelector): PermissionScope;
  cacheReadOnly(cache: CacheSelector): PermissionScope;
  cacheWriteOnly(cache: CacheSelector): PermissionScope;
  topicPublishSubscribe(cache: CacheSelector, topic: NameSelector<typeof AllTopics>): PermissionScope;
  topicSubscribeOnly(cache: CacheSelector, topic: NameSelector<typeof AllTopics>): PermissionScope;
  topicPublishOnly(cache: CacheSelector, topic: NameSelector<typeof AllTopics>): PermissionScope;
};
export declare const DisposableTokenScopes: {
  cacheKeyReadWrite(cache: CacheSelector, key: string | Uint8Array): DisposableTokenScope;
  cacheKeyReadOnly(cache: CacheSelector, key: string | Uint8Array): DisposableTokenScope;
  cacheKeyWriteOnly(cache: CacheSelector, key: string | Uint8Array): DisposableTokenScope;
  cacheKeyPrefixReadWrite(cache: CacheSelector, keyPrefix: string | Uint8Array): DisposableTokenScope;
  cacheKeyPrefixReadOnly(cache: CacheSelector, keyPrefix: string | Uint8Array): DisposableTokenScope;
  cacheKeyPrefixWriteOnly(cache: CacheSelector, keyPrefix: string | Uint8Array): DisposableTokenScope;
};

export declare class ApiKeyResult {
  private constructor();
  /** A secret. */
  readonly apiKey: string;
  /** A secret ('' for never-expiring keys and disposable tokens). */
  readonly refreshToken: string;
  readonly endpoint: string;
  /** null when the key never expires. */
  readonly expiresAt: Date | null;
  toDownloadJson(): string;
  writeFile(path: string): Promise<void>;
  credentialProvider(opts?: EndpointOptions): CredentialProvider;
  toJSON(): { apiKey: string; endpoint: string; expiresAt: Date | null };
  toString(): string;
}
export declare class DisposableTokenResult extends ApiKeyResult {
  readonly authToken: string;
}

export declare function redact(secret: string): string;

export declare class AuthClient {
  constructor(opts: { credentialProvider: CredentialProvider; deadlineMs?: number; /** PEM certificates to trust for TLS instead of the system roots. */ caFile?: string });
  /** opts.signal cancels the call: it then rejects with CancelledError (cause: the signal's reason). */
  generateApiKey(scope: PredefinedScope | PermissionScope, expiresIn: ExpiresIn, opts?: CallOptions): Promise<ApiKeyResult>;
  generateDisposableToken(scope: DisposableTokenScope, expiresIn: ExpiresIn, opts?: CallOptions & { tokenId?: string }): Promise<DisposableTokenResult>;
  refreshApiKey(refreshToken: string, opts?: CallOptions): Promise<ApiKeyResult>;
  /** Frees the client; calls in flight still finish. Later calls reject. Idempotent. */
  close(): void;
}

export interface CallOptions {
  /** Cancels the call when aborted (a cancelled refresh may still have reached the server). */
  signal?: AbortSignal;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/**
 * Sends the library's log messages (never a secret) to handler; null removes it. Process-wide.
 * Resolves once the previous handler will not be called again.
 */
export declare function setLogHandler(handler: ((level: LogLevel, message: string) => void) | null,
  opts?: { minLevel?: LogLevel }): Promise<void>;

export interface TokenStoreOptions {
  /** AWS Secrets Manager stores: region, endpoint URL ("http://127.0.0.1:5000") and profile. */
  awsRegion?: string;
  awsEndpoint?: string;
  awsProfile?: string;
}

export declare class TokenStore {
  private constructor();
  static open(spec: string, opts?: TokenStoreOptions): TokenStore;
  readonly description: string;
  readonly kind: 'file' | 'aws-sm' | 'env';
  readonly location: string;
  readonly writable: boolean;
  load(): Promise<ApiKeyResult>;
  store(result: ApiKeyResult): Promise<void>;
  close(): void;
}

export declare class RefreshEvent {
  private constructor();
  readonly kind: 'refreshed' | 'adopted' | 'failed';
  readonly store: string;
  readonly expiresAt: Date | null;
  readonly redactedKey: string;
  readonly keyFingerprint: string;
  readonly error: MomentoError | null;
  readonly consecutiveFailures?: number;
  /** When the refresher tries again after a failure; null when not planned. */
  readonly nextAttempt: Date | null;
  /** The pass repeated a refresh whose answer was lost. */
  readonly replay: boolean;
}

export interface RefresherOptions extends EndpointOptions {
  deadlineMs?: number;
  caFile?: string;
  refreshFraction?: number;
  jitterFraction?: number;
  backoff?: { initialMs: number; maxMs: number };
  recheckIntervalMs?: number;
}

export declare class Refresher extends EventEmitter {
  constructor(store: TokenStore, opts?: RefresherOptions);
  readonly store: TokenStore;
  start(): this;
  stop(): Promise<void>;
  /** One pass of the loop: a refresh when due (or with force), else null. */
  runOnce(opts?: { force?: boolean }): Promise<RefreshEvent | null>;
  refreshNow(): Promise<RefreshEvent>;
  close(): Promise<void>;
  on(event: 'refreshed' | 'adopted' | 'failed' | 'event', listener: (event: RefreshEvent) => void): this;
  once(event: 'refreshed' | 'adopted' | 'failed' | 'event', listener: (event: RefreshEvent) => void): this;
}

export declare class WatchedKey {
  private constructor();
  readonly expiresAt: Date | null;
  readonly fingerprint: string;
}

export declare class Watcher extends EventEmitter {
  private constructor();
  static open(store: TokenStore, opts?: EndpointOptions & { periodMs?: number }): Promise<Watcher>;
  readonly store: TokenStore;
  readonly credentialProvider: CredentialProvider;
  poll(): Promise<boolean>;
  notifyUnauthenticated(): void;
  close(): Promise<void>;
  on(event: 'key', listener: (key: WatchedKey) => void): this;
  once(event: 'key', listener: (key: WatchedKey) => void): this;
}

export declare class MomentoError extends Error {
  constructor(message: string, opts?: { code?: string; retryable?: boolean; grpcStatus?: number });
  readonly code: string;
  readonly retryable: boolean;
  readonly grpcStatus: number;
}
export declare class InvalidArgumentError extends MomentoError {}
export declare class AuthenticationError extends MomentoError {}
export declare class PermissionError extends MomentoError {}
export declare class NotFoundError extends MomentoError {}
export declare class AlreadyExistsError extends MomentoError {}
export declare class LimitExceededError extends MomentoError {}
export declare class FailedPreconditionError extends MomentoError {}
export declare class CancelledError extends MomentoError {}
export declare class TimeoutError extends MomentoError {}
export declare class ServerUnavailableError extends MomentoError {}
export declare class InternalServerError extends MomentoError {}
export declare class UnknownServiceError extends MomentoError {}
export declare class BadRequestError extends MomentoError {}
export declare class ConnectionError extends MomentoError {}
export declare class ClientResourceExhaustedError extends MomentoError {}
export declare class UnknownError extends MomentoError {}

declare const _default: typeof import('./index');
export default _default;
