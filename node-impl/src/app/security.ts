/** Passwords (bcrypt on libuv's thread pool) and bearer tokens (JWT HS256), as the conventions fix them. */
import bcrypt from "bcrypt";
import { createSigner, createVerifier } from "fast-jwt";

/** bcrypt reads at most 72 bytes; the contract says which ones: the first 72 of the UTF-8 encoding. */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password, "utf8").subarray(0, 72);
}

export class Passwords {
  private constructor(
    private readonly rounds: number,
    /** Verified against when the email is unknown, so that answer takes as long as a wrong password. */
    private readonly dummyHash: string,
  ) {}

  static async create(rounds: number): Promise<Passwords> {
    return new Passwords(rounds, await bcrypt.hash("not a password anyone has", rounds));
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(passwordBytes(password), this.rounds);
  }

  /** Checks a password against a stored hash, or against the dummy hash when there is none. */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const matches = await bcrypt.compare(passwordBytes(password), hash ?? this.dummyHash);
    return matches && hash !== undefined;
  }
}

export class Tokens {
  private readonly sign: (payload: { sub: string }) => string;
  private readonly decode: (token: string) => unknown;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    // Header {"alg":"HS256","typ":"JWT"}, claims {sub, iat: now in seconds, exp: iat + ttl}.
    this.sign = createSigner({ key: secret, algorithm: "HS256", expiresIn: ttlSeconds * 1000 });
    // Only HS256 (never none), signature checked, exp required and not past (no leeway).
    this.decode = createVerifier({ key: secret, algorithms: ["HS256"], requiredClaims: ["sub", "iat", "exp"], clockTolerance: 0 });
  }

  issue(userId: string): string {
    return this.sign({ sub: userId });
  }

  /** The token's subject when the token is valid, else null. */
  subject(token: string): string | null {
    let claims: unknown;
    try {
      claims = this.decode(token);
    } catch {
      return null; // whatever is wrong with it, an untrusted token that does not verify is just invalid
    }
    if (typeof claims !== "object" || claims === null) return null;
    const { sub, iat } = claims as { sub?: unknown; iat?: unknown };
    return typeof sub === "string" && Number.isInteger(iat) ? sub : null;
  }
}
