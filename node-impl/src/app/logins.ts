/**
 * Failed logins per account and per client address, in fixed windows, kept in the database that every instance
 * (of either implementation) shares: throttling holds across processes. As python-impl/app/store/logins.py.
 */
import type { Db } from "./db.js";

export interface Throttle {
  /** Failures for one email within a window before its logins are refused. */
  readonly maxAccountFailures: number;
  /** Failures from one client address within a window before its logins are refused. */
  readonly maxAddressFailures: number;
  readonly windowSeconds: number;
}

interface FailureRow {
  key: string;
  failures: number;
  window_start: number;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

const COUNTS = "SELECT key, failures, window_start FROM login_failures WHERE key IN (:account, :client) AND window_start > :since";
const FAIL = `INSERT INTO login_failures (key, failures, window_start) VALUES (:key, 1, :now)
  ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN login_failures.window_start <= :since THEN 1 ELSE login_failures.failures + 1 END,
    window_start = CASE WHEN login_failures.window_start <= :since THEN :now ELSE login_failures.window_start END`;
const PRUNE = "DELETE FROM login_failures WHERE window_start <= :since";
const CLEAR = "DELETE FROM login_failures WHERE key = :key";

export class LoginFailures {
  constructor(
    private readonly db: Db,
    private readonly throttle: Throttle,
  ) {}

  static keys(emailKey: string, address: string): [account: string, client: string] {
    return [`account:${emailKey}`, `address:${address}`];
  }

  /** Seconds until a login for this email from this address is tried again; null when it may be now. */
  async retryAfter(emailKey: string, address: string): Promise<number | null> {
    const [account, client] = LoginFailures.keys(emailKey, address);
    const now = nowSeconds();
    const rows = await this.db.all<FailureRow>(COUNTS, { account, client, since: now - this.throttle.windowSeconds });
    const limit = (key: string) => (key === account ? this.throttle.maxAccountFailures : this.throttle.maxAddressFailures);
    const waits = rows.filter((row) => row.failures >= limit(row.key)).map((row) => row.window_start + this.throttle.windowSeconds - now);
    return waits.length > 0 ? Math.max(1, ...waits) : null;
  }

  /** Counts a failure for both keys; a key whose window has passed starts a new one. */
  async failed(emailKey: string, address: string): Promise<void> {
    const now = nowSeconds();
    const since = now - this.throttle.windowSeconds;
    await this.db.transaction(async (tx) => {
      for (const key of LoginFailures.keys(emailKey, address)) await tx.run(FAIL, { key, now, since });
      // Windows that have passed count nothing: dropping them keeps the table as small as the attack.
      await tx.run(PRUNE, { since });
    });
  }

  /** A right password clears the account's count (not the address's: one success hides no stuffing). */
  async succeeded(emailKey: string): Promise<void> {
    await this.db.run(CLEAR, { key: LoginFailures.keys(emailKey, "")[0] });
  }
}
