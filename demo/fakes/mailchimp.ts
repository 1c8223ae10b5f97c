import { createHash, randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { type AddressInfo } from "node:net";

// A fake Mailchimp Marketing API 3.0 at the HTTP boundary, for the tests and the demo
// (plain Node: no test framework). It speaks the real shapes of the endpoints Tenure calls:
// the account root and /ping, audiences (/lists), merge fields, the batch members endpoint
// (POST /lists/{id}, with or without update_existing: new_members, updated_members and
// per-member errors, among them the refusal to subscribe an unsubscribed or cleaned
// member), a member's PATCH and GET, tags (POST .../members/{hash}/tags), static segments
// (tags are static segments: list, get, create, rename, batch members_to_add /
// members_to_remove) and delete-permanent; errors are problem documents (type, title,
// status, detail, instance).
// Every data centre is one server: the client replaces https://<dc>.api.mailchimp.com with
// this server's url. Mailchimp limits each key to 10 simultaneous connections: an 11th
// request in flight is answered 429.

export interface FakeMailchimpOptions {
  port?: number;
  /** Keys that authenticate (default: one test key, FAKE_MAILCHIMP_KEY). */
  apiKeys?: string[];
  /** Audiences that exist at the start (default: one, "Newsletter", id FAKE_AUDIENCE_ID). */
  audiences?: { id: string; name: string }[];
  /** Requests one key may have in flight; the next answers 429 (default 10, as Mailchimp). */
  maxConnections?: number;
  /** Each answer waits this long, so concurrent requests overlap as they do over the internet (default 2 ms). */
  latencyMs?: number;
}

export interface FakeMember {
  id: string;
  email: string;
  status: string;
  mergeFields: Record<string, unknown>;
  lastChanged: string;
}

export interface FakeMergeField {
  merge_id: number;
  tag: string;
  name: string;
  type: string;
  required: boolean;
  default_value: string;
  public: boolean;
  display_order: number;
  options: Record<string, unknown>;
  help_text: string;
  list_id: string;
}

export interface FakeSegment {
  id: number;
  name: string;
  /** Member ids (subscriber hashes) tagged with this segment. */
  members: Set<string>;
  createdAt: string;
  updatedAt: string;
}

export interface FakeAudience {
  id: string;
  name: string;
  members: Map<string, FakeMember>;
  mergeFields: FakeMergeField[];
  segments: Map<number, FakeSegment>;
  /** Subscriber hashes permanently deleted here: the API may not add them again. */
  forgotten: Set<string>;
}

export interface FakeMailchimpState {
  audiences: Map<string, FakeAudience>;
  /** Emails permanently deleted, in order. */
  deletedPermanently: string[];
  /** Every request answered: method, path (no query) and status. */
  requests: { method: string; path: string; status: number }[];
  /** The most requests one key had in flight at once. */
  maxInFlight: number;
  /** The member with this email, or undefined. */
  member(audienceId: string, email: string): FakeMember | undefined;
  /** The tags (static segments) this email is in, by name, sorted. */
  tagsOf(audienceId: string, email: string): string[];
  /** The emails tagged with this tag name, sorted. */
  membersTagged(audienceId: string, tagName: string): string[];
}

export interface FakeMailchimpInject {
  /** This key answers 401 from now on (as after the merchant deletes it in Mailchimp). */
  revokeKey(key: string): void;
  /** The next n requests answer 500. */
  serverErrors(n: number): void;
  /** The next n requests never answer (the client's timeout fires). */
  timeouts(n: number): void;
  /** The next n requests answer 429, as when more than 10 connections are open. */
  tooManyRequests(n: number): void;
  /** The next n requests of this method are carried out, then never answered (the client times out after the change landed). */
  lostAnswers(n: number, method?: string): void;
}

export interface FakeMailchimp {
  /** Replaces https://<dc>.api.mailchimp.com (AdapterOptions.baseUrl). */
  url: string;
  state: FakeMailchimpState;
  inject: FakeMailchimpInject;
  /** A new, empty audience (with FNAME and LNAME, as Mailchimp creates one). */
  addAudience(id: string, name: string): FakeAudience;
  /** Another key that authenticates from now on. */
  addApiKey(key: string): void;
  close(): Promise<void>;
}

export const FAKE_MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us21";
export const FAKE_AUDIENCE_ID = "a1b2c3d4e5";

const ERROR_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/";
const MEMBER_STATUSES = new Set(["subscribed", "unsubscribed", "cleaned", "pending", "transactional"]);
const MERGE_TYPES = new Set(["text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown", "birthday", "zip"]);
const BATCH_LIMIT = 500;

export function subscriberHash(email: string): string {
  return createHash("md5").update(email.trim().toLowerCase()).digest("hex");
}

class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const notFound = () => new Problem(404, "Resource Not Found", "The requested resource could not be found.");

// Mailchimp never lets the API subscribe a member who unsubscribed or was cleaned (a bounce).
// A PATCH answers 400 with this title and detail (as logged in
// github.com/ibericode/mailchimp-for-wordpress/issues/798); in the batch endpoint's errors[]
// the detail is `error` and error_code is ERROR_GENERIC: Mailchimp's OpenAPI spec gives the
// batch errors' error_code only ERROR_CONTACT_EXISTS and ERROR_GENERIC (as generated in
// github.com/brightdigit/Spinetail, BatchUpdateListMembersErrors.ErrorCode), and this is not
// "contact exists". A pending or transactional member can be subscribed.
const COMPLIANCE_STATES = new Set(["unsubscribed", "cleaned"]);
const inComplianceState = (email: string) =>
  new Problem(400, "Member In Compliance State", `${email} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`);
const invalid = (detail: string) => new Problem(400, "Invalid Resource", detail);

export async function startFakeMailchimp(options: FakeMailchimpOptions = {}): Promise<FakeMailchimp> {
  const keys = new Set(options.apiKeys ?? [FAKE_MAILCHIMP_KEY]);
  const revoked = new Set<string>();
  const maxConnections = options.maxConnections ?? 10;
  const latencyMs = options.latencyMs ?? 2;
  const inFlight = new Map<string, number>();
  const pending = { serverErrors: 0, timeouts: 0, tooManyRequests: 0, lostAnswers: 0, lostMethod: "POST" };
  const hanging = new Set<ServerResponse>();
  let nextMergeId = 10;
  let nextSegmentId = 1000;

  const audiences = new Map<string, FakeAudience>();
  const addAudience = (id: string, name: string): FakeAudience => {
    const audience: FakeAudience = { id, name, members: new Map(), mergeFields: defaultMergeFields(id), segments: new Map(), forgotten: new Set() };
    audiences.set(id, audience);
    return audience;
  };
  for (const { id, name } of options.audiences ?? [{ id: FAKE_AUDIENCE_ID, name: "Newsletter" }]) addAudience(id, name);

  const state: FakeMailchimpState = {
    audiences,
    deletedPermanently: [],
    requests: [],
    maxInFlight: 0,
    member: (audienceId, email) => audiences.get(audienceId)?.members.get(subscriberHash(email)),
    tagsOf(audienceId, email) {
      const audience = audiences.get(audienceId);
      if (!audience) return [];
      const hash = subscriberHash(email);
      return [...audience.segments.values()].filter((segment) => segment.members.has(hash)).map((segment) => segment.name).sort();
    },
    membersTagged(audienceId, tagName) {
      const audience = audiences.get(audienceId);
      const segment = audience && [...audience.segments.values()].find((candidate) => candidate.name === tagName);
      if (!audience || !segment) return [];
      return [...segment.members].map((hash) => audience.members.get(hash)?.email ?? `?${hash}`).sort();
    },
  };

  const inject: FakeMailchimpInject = {
    revokeKey: (key) => void revoked.add(key),
    serverErrors: (n) => void (pending.serverErrors += n),
    timeouts: (n) => void (pending.timeouts += n),
    tooManyRequests: (n) => void (pending.tooManyRequests += n),
    lostAnswers(n, method = "POST") {
      pending.lostAnswers += n;
      pending.lostMethod = method.toUpperCase();
    },
  };

  function defaultMergeFields(listId: string): FakeMergeField[] {
    // A new audience has these (FNAME, LNAME, ADDRESS, PHONE, BIRTHDAY); two are enough here.
    return [
      mergeField(listId, 1, "FNAME", "First Name", "text"),
      mergeField(listId, 2, "LNAME", "Last Name", "text"),
    ];
  }

  function mergeField(listId: string, id: number, tag: string, name: string, type: string, extra: Partial<FakeMergeField> = {}): FakeMergeField {
    return {
      merge_id: id,
      tag,
      name,
      type,
      required: false,
      default_value: "",
      public: true,
      display_order: id + 1,
      options: type === "text" ? { size: 25 } : type === "date" ? { date_format: "MM/DD/YYYY" } : {},
      help_text: "",
      list_id: listId,
      ...extra,
    };
  }

  const keyOf = (request: IncomingMessage): string | null => {
    const header = request.headers.authorization ?? "";
    if (header.startsWith("Bearer ")) return header.slice(7).trim();
    if (header.startsWith("Basic ")) {
      const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      return colon === -1 ? null : decoded.slice(colon + 1);
    }
    return null;
  };

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://fake");
    const method = request.method ?? "GET";
    const record = (status: number) => state.requests.push({ method, path: url.pathname, status });
    const key = keyOf(request);
    const body = await readBody(request);

    if (pending.timeouts > 0) {
      pending.timeouts -= 1;
      record(0);
      hanging.add(response);
      response.on("close", () => hanging.delete(response));
      return;
    }
    if (key === null || !keys.has(key) || revoked.has(key)) {
      record(401);
      return sendProblem(
        response,
        new Problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter."),
      );
    }
    const open = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, open);
    state.maxInFlight = Math.max(state.maxInFlight, open);
    try {
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (open > maxConnections || pending.tooManyRequests > 0) {
        if (open <= maxConnections) pending.tooManyRequests -= 1;
        record(429);
        return sendProblem(
          response,
          new Problem(429, "Too Many Requests", `You have exceeded the limit of ${maxConnections} simultaneous connections.`),
        );
      }
      if (pending.serverErrors > 0) {
        pending.serverErrors -= 1;
        record(500);
        return sendProblem(response, new Problem(500, "Internal Server Error", "An unexpected internal error has occurred. Please try again later."));
      }
      try {
        const { status, json } = route(method, url, body);
        if (pending.lostAnswers > 0 && method === pending.lostMethod) {
          pending.lostAnswers -= 1;
          record(0);
          hanging.add(response);
          response.on("close", () => hanging.delete(response));
          return;
        }
        record(status);
        send(response, status, json);
      } catch (error) {
        const problem = error instanceof Problem ? error : new Problem(500, "Internal Server Error", String(error));
        record(problem.status);
        sendProblem(response, problem);
      }
    } finally {
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
    }
  }

  function route(method: string, url: URL, rawBody: string): { status: number; json: unknown } {
    const parts = url.pathname.replace(/\/+$/, "").split("/").filter(Boolean);
    if (parts[0] !== "3.0") throw notFound();
    const path = parts.slice(1);
    const body = (): Record<string, unknown> => {
      try {
        const parsed: unknown = JSON.parse(rawBody || "{}");
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
      } catch {
        // fall through to the error below
      }
      throw new Problem(400, "JSON Parse Error", "We encountered an unspecified JSON parsing error.");
    };

    if (path.length === 0 && method === "GET") return ok(accountRoot());
    if (path[0] === "ping" && path.length === 1 && method === "GET") return ok({ health_status: "Everything's Chimpy!" });
    if (path[0] !== "lists") throw notFound();

    if (path.length === 1 && method === "GET") {
      const all = [...audiences.values()];
      const { offset, count } = paging(url);
      return ok({
        lists: all.slice(offset, offset + count).map(listJson),
        total_items: all.length,
        constraints: { may_create: false, max_instances: 1, current_total_instances: all.length },
        _links: [],
      });
    }
    const audience = audiences.get(path[1] ?? "");
    if (!audience) throw notFound();

    if (path.length === 2) {
      if (method === "GET") return ok(listJson(audience));
      if (method === "POST") return ok(batchMembers(audience, body(), url));
      throw methodNotAllowed();
    }
    if (path[2] === "merge-fields" && path.length === 3) {
      if (method === "GET") {
        const { offset, count } = paging(url);
        return ok({ merge_fields: audience.mergeFields.slice(offset, offset + count), list_id: audience.id, total_items: audience.mergeFields.length, _links: [] });
      }
      if (method === "POST") return ok(createMergeField(audience, body()));
      throw methodNotAllowed();
    }
    if (path[2] === "segments") return segments(audience, method, path.slice(3), url, body);
    if (path[2] === "members" && path.length >= 4) {
      const hash = memberKey(path[3]);
      const member = audience.members.get(hash);
      if (path.length === 4) {
        if (!member) throw notFound();
        if (method === "GET") return ok(memberJson(audience, member));
        if (method === "PATCH") return ok(memberJson(audience, updateMember(audience, member, body(), true)));
        throw methodNotAllowed();
      }
      if (path[4] === "tags" && path.length === 5 && method === "POST") {
        if (!member) throw notFound();
        const tags = body().tags;
        if (!Array.isArray(tags)) throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
        for (const tag of tags as { name?: unknown; status?: unknown }[]) {
          if (typeof tag.name !== "string" || (tag.status !== "active" && tag.status !== "inactive")) {
            throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
          }
          const segment = findSegmentByName(audience, tag.name) ?? (tag.status === "active" ? createSegment(audience, tag.name) : undefined);
          if (!segment) continue;
          if (tag.status === "active") segment.members.add(member.id);
          else segment.members.delete(member.id);
        }
        return { status: 204, json: null };
      }
      if (path[4] === "actions" && path[5] === "delete-permanent" && path.length === 6 && method === "POST") {
        if (!member) throw notFound();
        audience.members.delete(member.id);
        audience.forgotten.add(member.id);
        for (const segment of audience.segments.values()) segment.members.delete(member.id);
        state.deletedPermanently.push(member.email);
        return { status: 204, json: null };
      }
    }
    throw notFound();
  }

  function batchMembers(audience: FakeAudience, body: Record<string, unknown>, url: URL) {
    const members = body.members;
    if (!Array.isArray(members)) throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
    if (members.length > BATCH_LIMIT) throw invalid(`You may only send ${BATCH_LIMIT} members per request.`);
    const updateExisting = body.update_existing === true;
    const skipDuplicateCheck = url.searchParams.get("skip_duplicate_check") === "true";
    const created: FakeMember[] = [];
    const updated: FakeMember[] = [];
    const errors: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    for (const item of members as Record<string, unknown>[]) {
      const email = typeof item.email_address === "string" ? item.email_address.trim() : "";
      const fail = (error: string, code = "ERROR_GENERIC") => errors.push({ email_address: email, error, error_code: code, field: "", field_message: "" });
      if (!looksReal(email)) {
        fail(`${email} looks fake or invalid, please enter a real email address.`);
        continue;
      }
      const hash = subscriberHash(email);
      if (seen.has(hash) && !skipDuplicateCheck) {
        fail(`${email} was already included in this request.`);
        continue;
      }
      seen.add(hash);
      const existing = audience.members.get(hash);
      if (existing) {
        if (!updateExisting) {
          fail(`${email} is already a list member. Use PUT to insert or update list members.`, "ERROR_CONTACT_EXISTS");
          continue;
        }
        try {
          // As documented: update_existing changes an existing member's subscription status to
          // the one sent, except a subscribe of an unsubscribed or cleaned member, refused per member
          // (nothing of theirs changes).
          updated.push(updateMember(audience, existing, item, false));
        } catch (error) {
          fail(error instanceof Problem ? error.detail : String(error));
        }
        continue;
      }
      if (audience.forgotten.has(hash)) {
        // Mailchimp's words (title "Forgotten Email Not Subscribed"), as logged in
        // github.com/tbar0970/jethro-pmm/issues/982.
        fail(`${email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`);
        continue;
      }
      const status = item.status;
      if (typeof status !== "string" || !MEMBER_STATUSES.has(status)) {
        fail(`${email}: a new member needs a status (subscribed, unsubscribed, cleaned, pending or transactional).`);
        continue;
      }
      try {
        const member: FakeMember = { id: hash, email, status, mergeFields: blankMergeFields(audience), lastChanged: now() };
        applyMergeFields(audience, member, item.merge_fields);
        audience.members.set(hash, member);
        created.push(member);
      } catch (error) {
        fail(error instanceof Problem ? error.detail : String(error));
      }
    }
    return {
      new_members: created.map((member) => memberJson(audience, member)),
      updated_members: updated.map((member) => memberJson(audience, member)),
      errors,
      total_created: created.length,
      total_updated: updated.length,
      error_count: errors.length,
      _links: [],
    };
  }

  function updateMember(audience: FakeAudience, member: FakeMember, body: Record<string, unknown>, patch: boolean): FakeMember {
    if (body.status !== undefined) {
      if (typeof body.status !== "string" || !MEMBER_STATUSES.has(body.status)) throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
      if (body.status === "subscribed" && COMPLIANCE_STATES.has(member.status)) throw inComplianceState(member.email);
      member.status = body.status;
    } else if (!patch) {
      // The batch endpoint documents each member's status as required.
      throw invalid(`${member.email}: status is required.`);
    }
    const next = { ...member.mergeFields };
    applyMergeFields(audience, { ...member, mergeFields: next }, body.merge_fields);
    member.mergeFields = next;
    member.lastChanged = now();
    return member;
  }

  function applyMergeFields(audience: FakeAudience, member: FakeMember, values: unknown): void {
    if (values === undefined) return;
    if (!values || typeof values !== "object") throw invalid("Your merge fields were invalid.");
    for (const [tag, value] of Object.entries(values as Record<string, unknown>)) {
      const field = audience.mergeFields.find((candidate) => candidate.tag === tag);
      if (!field) continue; // Mailchimp ignores tags the audience does not have
      if (value === "" || value === null) {
        member.mergeFields[tag] = "";
        continue;
      }
      if (field.type === "number") {
        const number = typeof value === "number" ? value : Number(value);
        if (!Number.isFinite(number)) throw invalid(`Your merge fields were invalid. ${tag}: Please enter a number`);
        member.mergeFields[tag] = number;
      } else if (field.type === "date") {
        if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw invalid(`Your merge fields were invalid. ${tag}: Please enter a date`);
        member.mergeFields[tag] = value.slice(0, 10);
      } else {
        if (typeof value !== "string" && typeof value !== "number") throw invalid(`Your merge fields were invalid. ${tag}: Please enter a value`);
        const text = String(value);
        if (text.length > 255) throw invalid(`Your merge fields were invalid. ${tag}: Value must be 255 characters or fewer`);
        member.mergeFields[tag] = text;
      }
    }
  }

  function blankMergeFields(audience: FakeAudience): Record<string, unknown> {
    return Object.fromEntries(audience.mergeFields.map((field) => [field.tag, ""]));
  }

  function createMergeField(audience: FakeAudience, body: Record<string, unknown>): FakeMergeField {
    const { tag, name, type } = body;
    if (typeof name !== "string" || name === "") throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
    if (typeof type !== "string" || !MERGE_TYPES.has(type)) throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
    if (typeof tag !== "string" || !/^[A-Z0-9_]{1,10}$/.test(tag)) {
      throw invalid("The merge field tag must be at most 10 characters: letters, digits and underscores.");
    }
    if (audience.mergeFields.some((field) => field.tag === tag)) throw invalid(`A Merge Field with the tag "${tag}" already exists for this list.`);
    const options = body.options && typeof body.options === "object" ? (body.options as Record<string, unknown>) : {};
    const field = mergeField(audience.id, nextMergeId++, tag, name, type, {
      required: body.required === true,
      public: body.public !== false,
      help_text: typeof body.help_text === "string" ? body.help_text : "",
      options: type === "date" ? { date_format: typeof options.date_format === "string" ? options.date_format : "MM/DD/YYYY" } : type === "text" ? { size: 25 } : {},
    });
    audience.mergeFields.push(field);
    for (const member of audience.members.values()) member.mergeFields[tag] = "";
    return field;
  }

  function segments(audience: FakeAudience, method: string, rest: string[], url: URL, body: () => Record<string, unknown>) {
    if (rest.length === 0) {
      if (method === "GET") {
        const type = url.searchParams.get("type");
        // Every segment here is static; a filter on another type finds none.
        const all = type === null || type === "static" ? [...audience.segments.values()] : [];
        const { offset, count } = paging(url);
        return ok({ segments: all.slice(offset, offset + count).map((segment) => segmentJson(audience, segment)), list_id: audience.id, total_items: all.length, _links: [] });
      }
      if (method === "POST") {
        const { name, static_segment: emails } = body();
        if (typeof name !== "string" || name.trim() === "" || name.length > 100) {
          throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
        }
        if (!Array.isArray(emails)) throw invalid("Only static segments (static_segment: [...]) can be created here.");
        if (findSegmentByName(audience, name)) throw invalid(`Sorry, a tag or segment named "${name}" already exists.`);
        const segment = createSegment(audience, name);
        for (const email of emails) {
          const hash = subscriberHash(String(email));
          if (audience.members.has(hash)) segment.members.add(hash);
        }
        return ok(segmentJson(audience, segment));
      }
      throw methodNotAllowed();
    }
    const segment = audience.segments.get(Number(rest[0]));
    if (!segment || rest.length > 1) throw notFound();
    if (method === "GET") return ok(segmentJson(audience, segment));
    if (method === "PATCH") {
      const { name } = body();
      if (typeof name !== "string" || name.trim() === "") throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
      const other = findSegmentByName(audience, name);
      if (other && other !== segment) throw invalid(`Sorry, a tag or segment named "${name}" already exists.`);
      segment.name = name;
      segment.updatedAt = now();
      return ok(segmentJson(audience, segment));
    }
    if (method === "POST") {
      const { members_to_add: toAdd = [], members_to_remove: toRemove = [] } = body();
      if (!Array.isArray(toAdd) || !Array.isArray(toRemove)) throw invalid("The resource submitted could not be validated. For field-specific details, see the 'errors' array.");
      if (toAdd.length > BATCH_LIMIT || toRemove.length > BATCH_LIMIT) throw invalid(`You may only send ${BATCH_LIMIT} members to add and ${BATCH_LIMIT} to remove per request.`);
      const added: FakeMember[] = [];
      const removed: FakeMember[] = [];
      const notOnList: string[] = [];
      for (const email of toAdd.map(String)) {
        const member = audience.members.get(subscriberHash(email));
        if (!member) {
          notOnList.push(email);
          continue;
        }
        if (!segment.members.has(member.id)) added.push(member);
        segment.members.add(member.id);
      }
      const notInSegment: string[] = [];
      for (const email of toRemove.map(String)) {
        const member = audience.members.get(subscriberHash(email));
        if (!member || !segment.members.has(member.id)) {
          notInSegment.push(email);
          continue;
        }
        segment.members.delete(member.id);
        removed.push(member);
      }
      segment.updatedAt = now();
      const errors = [
        ...(notOnList.length > 0 ? [{ email_addresses: notOnList, error: "Email addresses are not subscribed to the list" }] : []),
        ...(notInSegment.length > 0 ? [{ email_addresses: notInSegment, error: "Email addresses are not in the segment" }] : []),
      ];
      return ok({
        members_added: added.map((member) => memberJson(audience, member)),
        members_removed: removed.map((member) => memberJson(audience, member)),
        errors,
        total_added: added.length,
        total_removed: removed.length,
        error_count: errors.reduce((sum, error) => sum + error.email_addresses.length, 0),
        _links: [],
      });
    }
    if (method === "DELETE") {
      audience.segments.delete(segment.id);
      return { status: 204, json: null };
    }
    throw methodNotAllowed();
  }

  function createSegment(audience: FakeAudience, name: string): FakeSegment {
    const segment: FakeSegment = { id: nextSegmentId++, name, members: new Set(), createdAt: now(), updatedAt: now() };
    audience.segments.set(segment.id, segment);
    return segment;
  }

  function findSegmentByName(audience: FakeAudience, name: string): FakeSegment | undefined {
    return [...audience.segments.values()].find((segment) => segment.name === name);
  }

  function memberKey(raw: string): string {
    const decoded = decodeURIComponent(raw);
    // The member endpoints take the subscriber hash, or the email address itself.
    return /^[0-9a-f]{32}$/.test(decoded) ? decoded : subscriberHash(decoded);
  }

  function listJson(audience: FakeAudience) {
    const statuses = [...audience.members.values()].map((member) => member.status);
    const count = (status: string) => statuses.filter((candidate) => candidate === status).length;
    return {
      id: audience.id,
      web_id: 100000 + [...audiences.keys()].indexOf(audience.id),
      name: audience.name,
      contact: { company: "Tenure Demo Store", address1: "1 Main St", address2: "", city: "Portland", state: "OR", zip: "97201", country: "US", phone: "" },
      permission_reminder: "You are receiving this email because you opted in at our store.",
      use_archive_bar: true,
      campaign_defaults: { from_name: "Tenure Demo Store", from_email: "hello@example.com", subject: "", language: "en" },
      notify_on_subscribe: "",
      notify_on_unsubscribe: "",
      date_created: "2024-01-15T10:00:00+00:00",
      list_rating: 3,
      email_type_option: false,
      subscribe_url_short: "http://eepurl.com/fake",
      subscribe_url_long: `https://example.us21.list-manage.com/subscribe?u=fake&id=${audience.id}`,
      beamer_address: `us21-fake-${audience.id}@inbound.mailchimp.com`,
      visibility: "prv",
      double_optin: false,
      has_welcome: false,
      marketing_permissions: false,
      modules: [],
      stats: {
        member_count: count("subscribed"),
        unsubscribe_count: count("unsubscribed"),
        cleaned_count: count("cleaned"),
        member_count_since_send: count("subscribed"),
        unsubscribe_count_since_send: 0,
        cleaned_count_since_send: 0,
        campaign_count: 0,
        campaign_last_sent: "",
        merge_field_count: audience.mergeFields.length,
        avg_sub_rate: 0,
        avg_unsub_rate: 0,
        target_sub_rate: 0,
        open_rate: 0,
        click_rate: 0,
        last_sub_date: "",
        last_unsub_date: "",
      },
      _links: [],
    };
  }

  function memberJson(audience: FakeAudience, member: FakeMember) {
    const tags = [...audience.segments.values()].filter((segment) => segment.members.has(member.id));
    const first = String(member.mergeFields.FNAME ?? "");
    const last = String(member.mergeFields.LNAME ?? "");
    return {
      id: member.id,
      email_address: member.email,
      unique_email_id: member.id.slice(0, 10),
      contact_id: member.id,
      full_name: `${first} ${last}`.trim(),
      web_id: parseInt(member.id.slice(0, 7), 16),
      email_type: "html",
      status: member.status,
      consents_to_one_to_one_messaging: true,
      merge_fields: member.mergeFields,
      interests: {},
      stats: { avg_open_rate: 0, avg_click_rate: 0 },
      ip_signup: "",
      timestamp_signup: "",
      ip_opt: "",
      timestamp_opt: "",
      member_rating: 2,
      last_changed: member.lastChanged,
      language: "",
      vip: false,
      email_client: "",
      location: { latitude: 0, longitude: 0, gmtoff: 0, dstoff: 0, country_code: "", timezone: "", region: "" },
      source: "API - Generic",
      tags_count: tags.length,
      tags: tags.map((segment) => ({ id: segment.id, name: segment.name })),
      list_id: audience.id,
      _links: [],
    };
  }

  function segmentJson(audience: FakeAudience, segment: FakeSegment) {
    return {
      id: segment.id,
      name: segment.name,
      member_count: segment.members.size,
      type: "static",
      created_at: segment.createdAt,
      updated_at: segment.updatedAt,
      options: {},
      list_id: audience.id,
      _links: [],
    };
  }

  function accountRoot() {
    return {
      account_id: "8d3a3db4d97663a9074efcc16",
      login_id: "12345678",
      account_name: "Tenure Demo Store",
      email: "owner@example.com",
      first_name: "Demo",
      last_name: "Owner",
      username: "tenure-demo",
      avatar_url: "",
      role: "owner",
      member_since: "2024-01-15T10:00:00+00:00",
      pricing_plan_type: "monthly",
      first_payment: "",
      account_timezone: "America/Los_Angeles",
      account_industry: "eCommerce",
      contact: { company: "Tenure Demo Store", addr1: "1 Main St", addr2: "", city: "Portland", state: "OR", zip: "97201", country: "US" },
      pro_enabled: false,
      last_login: now(),
      total_subscribers: [...audiences.values()].reduce((sum, audience) => sum + audience.members.size, 0),
      industry_stats: { open_rate: 0.2, bounce_rate: 0.01, click_rate: 0.02 },
      _links: [],
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    state,
    inject,
    addAudience,
    addApiKey: (key) => void keys.add(key),
    async close() {
      for (const response of hanging) response.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function ok(json: unknown): { status: number; json: unknown } {
  return { status: 200, json };
}

function methodNotAllowed(): Problem {
  return new Problem(405, "Method Not Allowed", "The requested method and resource are not compatible. See the Allow header for this resource's available methods.");
}

function paging(url: URL): { offset: number; count: number } {
  const offset = Math.max(0, Number(url.searchParams.get("offset") ?? 0) || 0);
  const count = Math.min(1000, Math.max(1, Number(url.searchParams.get("count") ?? 10) || 10));
  return { offset, count };
}

function looksReal(email: string): boolean {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) && !/invalid/i.test(email);
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, json: unknown): void {
  if (status === 204 || json === null) {
    response.writeHead(status);
    response.end();
    return;
  }
  const text = JSON.stringify(json);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function sendProblem(response: ServerResponse, problem: Problem): void {
  const text = JSON.stringify({ type: ERROR_TYPE, title: problem.title, status: problem.status, detail: problem.detail, instance: randomUUID() });
  response.writeHead(problem.status, { "content-type": "application/problem+json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
