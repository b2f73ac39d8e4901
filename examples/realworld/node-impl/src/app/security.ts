/** Passwords (bcrypt, on libuv's thread pool) and tokens (JWT HS256), as CONVENTIONS.md fixes them. */
import bcrypt from "bcrypt";
import { createSigner, createVerifier } from "fast-jwt";

/** bcrypt reads at most 72 bytes; the conventions say which: the first 72 of the UTF-8 encoding. */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password, "utf8").subarray(0, 72);
}

export class Passwords {
  private constructor(
    private readonly rounds: number,
    /** Checked when the email is unknown, so that this answer takes as long as a wrong password. */
    private readonly dummyHash: string,
  ) {}

  static async create(rounds: number): Promise<Passwords> {
    return new Passwords(rounds, await bcrypt.hash("no account has this password", rounds));
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(passwordBytes(password), this.rounds);
  }

  /** Whether the password matches the stored hash; with no hash, false after checking the dummy one. */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const matches = await bcrypt.compare(passwordBytes(password), hash ?? this.dummyHash);
    return matches && hash !== undefined;
  }
}

const USER_ID = /^[1-9][0-9]*$/;
// `Token <jwt>`: the word as written, one space, the token (CONVENTIONS.md).
const TOKEN_CREDENTIAL = /^Token ([^ ]+)$/;

export class Tokens {
  private readonly sign: (claims: { sub: string }) => string;
  private readonly decode: (token: string) => unknown;

  constructor(secret: string, ttlSeconds: number) {
    // Header {"alg":"HS256","typ":"JWT"}; claims sub, iat (now, in seconds) and exp = iat + ttl.
    this.sign = createSigner({ key: secret, algorithm: "HS256", expiresIn: ttlSeconds * 1000 });
    // HS256 only (never none), the signature checked, exp required and not past, without leeway.
    this.decode = createVerifier({ key: secret, algorithms: ["HS256"], requiredClaims: ["sub", "iat", "exp"], clockTolerance: 0 });
  }

  issue(userId: number): string {
    return this.sign({ sub: String(userId) });
  }

  /** The user id an `Authorization` value carries (`Token <jwt>`), or null when it is not a valid token of ours. */
  userId(authorization: string): number | null {
    const token = TOKEN_CREDENTIAL.exec(authorization)?.[1];
    if (token === undefined) return null;
    let claims: unknown;
    try {
      claims = this.decode(token);
    } catch {
      return null; // whatever is wrong with an untrusted token, it is not valid
    }
    if (typeof claims !== "object" || claims === null) return null;
    const { sub, iat, exp } = claims as { sub?: unknown; iat?: unknown; exp?: unknown };
    if (typeof sub !== "string" || !USER_ID.test(sub) || !Number.isInteger(iat) || !Number.isInteger(exp)) return null;
    // Valid while the time in whole seconds is below exp: the verifier lets the exp millisecond itself through.
    if (Math.floor(Date.now() / 1000) >= (exp as number)) return null;
    const id = Number(sub);
    // An id past 2^53 is no id this database gave out.
    return Number.isSafeInteger(id) ? id : null;
  }
}
