import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Module, Post, Put } from '@nestjs/common';
import request from 'supertest';
import { Cors, CorsAudit, CorsModule, type CorsModuleOptions, type CorsRejection } from '../../src/index.js';
import {
  ADAPTERS,
  APP_ORIGIN,
  corsHeaderNames,
  EVIL_ORIGIN,
  handled,
  PARTNER_ORIGIN,
  recordHandled,
  startApp,
} from './app.fixture.js';

/** A sibling subdomain of APP_ORIGIN: the same site, another origin. */
const SIBLING_ORIGIN = 'https://blog.example.com';
const FORM = 'application/x-www-form-urlencoded';

/** Origins trusted with reads, a narrower list with writes; the partner policy trusts the partner with writes. */
const TRUSTED_WRITES: CorsModuleOptions = {
  origin: [APP_ORIGIN, PARTNER_ORIGIN],
  writeOrigin: [APP_ORIGIN],
  credentials: true,
  methods: ['GET', 'POST', 'PUT'],
  policies: { partner: { writeOrigin: [PARTNER_ORIGIN] } },
};

@Controller('account')
class AccountController {
  @Get() read() {
    return recordHandled('account.read', 'account');
  }
  @Post() write() {
    return recordHandled('account.write', 'written');
  }
}

/** Readable by any site; written only from the app (and, for comments, its sibling site). */
@Cors({ origin: '*', credentials: false, writeOrigin: [APP_ORIGIN] })
@Controller('public')
class PublicController {
  @Get() read() {
    return recordHandled('public.read', ['public']);
  }
  @Post() write() {
    return recordHandled('public.write', 'written');
  }
  @Put(':id') replace() {
    return recordHandled('public.replace', 'replaced');
  }
  @Cors({ writeOrigin: [APP_ORIGIN, SIBLING_ORIGIN] }) @Post('comments') comment() {
    return recordHandled('public.comment', 'commented');
  }
  @Cors({ reportOnly: true }) @Post('drafts') draft() {
    return recordHandled('public.draft', 'drafted');
  }
}

@Cors('partner')
@Controller('partner')
class PartnerController {
  @Get() read() {
    return recordHandled('partner.read', 'orders');
  }
  @Post() write() {
    return recordHandled('partner.write', 'ordered');
  }
}

const rejections: CorsRejection[] = [];

@Module({
  imports: [CorsModule.forRoot({ ...TRUSTED_WRITES, onRejection: (rejection) => void rejections.push(rejection) })],
  controllers: [AccountController, PublicController, PartnerController],
})
class TrustedWritesModule {}

describe.each(ADAPTERS)('writes trusted apart from reads (writeOrigin) on $name ($bootstrap)', (adapter) => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  /** A cross-site HTML form post: no preflight, the user's cookies, and the page never needs to read the answer. */
  const formPost = (path: string, origin: string) =>
    http().post(path).set('Origin', origin).set('Content-Type', FORM).send('comment=hello');
  const preflight = (path: string, origin: string, method: string) =>
    http().options(path).set('Origin', origin).set('Access-Control-Request-Method', method);

  beforeAll(async () => {
    app = await startApp(adapter, [TrustedWritesModule]);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    handled.length = 0;
    rejections.length = 0;
  });

  describe("an origin: '*' endpoint with writeOrigin", () => {
    it.each([APP_ORIGIN, EVIL_ORIGIN])('is readable from any origin (%s), with * and no Vary', async (origin) => {
      const res = await http().get('/public').set('Origin', origin);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers.vary ?? '').not.toContain('Origin');
      expect(handled).toEqual(['public.read']);
    });

    it('refuses a cross-site form post from an untrusted origin with 403, before the handler', async () => {
      const res = await formPost('/public', EVIL_ORIGIN);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ message: 'CORS request rejected: origin not allowed' });
      expect(corsHeaderNames(res)).toEqual([]);
      expect(res.headers.vary).toContain('Origin');
      expect(handled).toEqual([]);
      expect(rejections).toMatchObject([
        { kind: 'request', reason: 'origin not allowed', outcome: 'refused', origin: EVIL_ORIGIN, method: 'POST' },
      ]);
    });

    it('accepts a form post from the trusted origin, answered with that origin and Vary: Origin', async () => {
      const res = await formPost('/public', APP_ORIGIN);
      expect(res.status).toBe(201);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers.vary).toContain('Origin');
      expect(handled).toEqual(['public.write']);
    });

    it('rejects the preflight of a PUT from an untrusted origin, and accepts the trusted one', async () => {
      const rejected = await preflight('/public/7', EVIL_ORIGIN, 'PUT');
      expect(rejected.status).toBe(403);
      expect(rejected.text).toBe('CORS preflight rejected: origin not allowed');
      expect(corsHeaderNames(rejected)).toEqual([]);
      expect(rejected.headers.vary).toContain('Origin');

      const accepted = await preflight('/public/7', APP_ORIGIN, 'PUT');
      expect(accepted.status).toBe(204);
      expect(accepted.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(accepted.headers['access-control-allow-methods']).toBe('GET, POST, PUT, HEAD');
      expect(accepted.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      expect(handled).toEqual([]);

      const put = await http().put('/public/7').set('Origin', APP_ORIGIN).send({ name: 'x' });
      expect(put.status).toBe(200);
      expect(put.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(handled).toEqual(['public.replace']);
    });

    it('lists only the safe methods in the preflight of a read, so no write skips its preflight', async () => {
      const res = await preflight('/public', EVIL_ORIGIN, 'GET').set('Access-Control-Request-Headers', 'Content-Type');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD');
    });

    it('does not trust a sibling subdomain (Sec-Fetch-Site: same-site) unless writeOrigin lists it', async () => {
      const refused = await formPost('/public', SIBLING_ORIGIN).set('Sec-Fetch-Site', 'same-site');
      expect(refused.status).toBe(403);
      expect(handled).toEqual([]);

      const listed = await formPost('/public/comments', SIBLING_ORIGIN).set('Sec-Fetch-Site', 'same-site');
      expect(listed.status).toBe(201);
      expect(listed.headers['access-control-allow-origin']).toBe(SIBLING_ORIGIN);
      expect(handled).toEqual(['public.comment']);
    });

    it('reports instead of refusing under reportOnly: the write runs, without CORS headers', async () => {
      const res = await formPost('/public/drafts', EVIL_ORIGIN);
      expect(res.status).toBe(201);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(handled).toEqual(['public.draft']);
      expect(rejections).toMatchObject([
        { kind: 'request', reason: 'origin not allowed', outcome: 'reported', origin: EVIL_ORIGIN, method: 'POST' },
      ]);
    });
  });

  describe('a list-origin policy with a narrower writeOrigin', () => {
    it('lets the partner read with credentials, but not write', async () => {
      const read = await http().get('/account').set('Origin', PARTNER_ORIGIN);
      expect(read.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
      expect(read.headers['access-control-allow-credentials']).toBe('true');

      const write = await formPost('/account', PARTNER_ORIGIN);
      expect(write.status).toBe(403);
      expect(corsHeaderNames(write)).toEqual([]);
      expect(handled).toEqual(['account.read']);

      const announced = await preflight('/account', PARTNER_ORIGIN, 'POST');
      expect(announced.status).toBe(403);
      expect(announced.text).toBe('CORS preflight rejected: origin not allowed');
    });

    it('lets the app write, with credentials', async () => {
      const write = await formPost('/account', APP_ORIGIN);
      expect(write.status).toBe(201);
      expect(write.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(write.headers['access-control-allow-credentials']).toBe('true');
      expect(handled).toEqual(['account.write']);
    });
  });

  describe('writeOrigin from a named policy, over forRoot', () => {
    it('trusts the partner with writes and no longer the app; reads still follow forRoot', async () => {
      const partner = await formPost('/partner', PARTNER_ORIGIN);
      expect(partner.status).toBe(201);
      expect(partner.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
      const app = await formPost('/partner', APP_ORIGIN);
      expect(app.status).toBe(403);
      const read = await http().get('/partner').set('Origin', APP_ORIGIN);
      expect(read.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(handled).toEqual(['partner.write', 'partner.read']);
    });
  });

  it('shows writeOrigin next to origin in the audit, with where each came from', () => {
    const audit = app.get(CorsAudit);
    const pick = (method: string, path: string) => {
      const { origin, writeOrigin, from } = audit.routeFor(method, path);
      return { origin, writeOrigin, from: { origin: from.origin, writeOrigin: from.writeOrigin } };
    };
    expect(pick('POST', '/public')).toEqual({
      origin: ['*'],
      writeOrigin: [APP_ORIGIN],
      from: { origin: 'PublicController', writeOrigin: 'PublicController' },
    });
    expect(pick('POST', '/public/comments').from.writeOrigin).toBe('PublicController.comment');
    expect(pick('POST', '/partner')).toEqual({
      origin: [APP_ORIGIN, PARTNER_ORIGIN],
      writeOrigin: [PARTNER_ORIGIN],
      from: { origin: 'forRoot', writeOrigin: "policy 'partner'" },
    });
    expect(audit.table()).toMatch(/origin\s+writeOrigin\s+credentials/);
  });
});

describe.each(ADAPTERS)('writeOrigin by default, on $name ($bootstrap)', (adapter) => {
  it('follows origin where it is not given, and comes from where origin does in the audit', async () => {
    @Controller('notes')
    class NotesController {
      @Post() write() {
        return recordHandled('notes.write', 'noted');
      }
    }
    @Module({
      imports: [CorsModule.forRoot({ origin: [APP_ORIGIN], methods: ['GET', 'POST'] })],
      controllers: [NotesController],
    })
    class DefaultModule {}
    const app = await startApp(adapter, [DefaultModule]);
    try {
      handled.length = 0;
      const res = await request(app.getHttpServer()).post('/notes').set('Origin', APP_ORIGIN).set('Content-Type', FORM);
      expect(res.status).toBe(201);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(handled).toEqual(['notes.write']);
      const { writeOrigin, from } = app.get(CorsAudit).routeFor('POST', '/notes');
      expect({ writeOrigin, from: from.writeOrigin }).toEqual({ writeOrigin: [APP_ORIGIN], from: 'forRoot' });
    } finally {
      await app.close();
    }
  });

  it("stops the bootstrap where origin '*' meets a write method without writeOrigin, naming the controller and both ways out", async () => {
    @Cors({ origin: '*' })
    @Controller('open')
    class OpenController {
      @Post() write() {
        return 'written';
      }
    }
    @Module({
      imports: [CorsModule.forRoot({ methods: ['GET', 'POST'] })],
      controllers: [OpenController],
    })
    class OpenModule {}
    const bootstrap = startApp(adapter, [OpenModule]);
    await expect(bootstrap).rejects.toThrow(
      "Invalid CORS configuration in OpenController: origin '*' with methods 'POST'",
    );
    await expect(bootstrap).rejects.toThrow("writeOrigin: ['https://app.example.com']");
    await expect(bootstrap).rejects.toThrow("writeOrigin: '*' to let any site write");
  });
});
