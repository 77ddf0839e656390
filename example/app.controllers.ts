import { Controller, Delete, Get, Header, Param, Post, Put, UnauthorizedException, Headers } from '@nestjs/common';
import { Cors } from '../src/index.js';

// The example declares the names of its policies (app.module.ts), as an app does to have `@Cors('name')` checked.
declare module '../src/cors-options.interface.js' {
  interface CorsPolicyNames {
    partner: true;
    guestbook: true;
  }
}

/** Uses the global policy: the app's own front end, with credentials. */
@Controller('users')
export class UsersController {
  @Get() list() {
    return [{ id: 1, name: 'Ada' }];
  }
  @Post() create() {
    return { id: 2 };
  }
  @Get('me') me(@Headers('authorization') authorization?: string) {
    if (!authorization) throw new UnauthorizedException('send Authorization');
    return { id: 1 };
  }
}

/** Public data: any origin reads it, without credentials, and no other site writes to it; one route exposes a header. */
@Cors({ origin: '*', credentials: false, writeOrigin: [] })
@Controller('public')
export class PublicController {
  @Get() list() {
    return ['open data'];
  }
  @Cors({ exposedHeaders: ['X-Total-Count'] })
  @Get('count')
  @Header('X-Total-Count', '42')
  count() {
    return 42;
  }
  @Cors(false)
  @Post('admin')
  admin() {
    return 'only same-origin callers get here';
  }
}

/** A partner integration, under the named policy 'partner' (app.module.ts): one partner origin, its own header, and PUT/DELETE. */
@Cors('partner')
@Controller('partner/orders')
export class PartnerController {
  @Get(':id') get(@Param('id') id: string) {
    return { id };
  }
  @Put(':id') update(@Param('id') id: string) {
    return { id, updated: true };
  }
  @Delete(':id') remove(@Param('id') id: string) {
    return { id, removed: true };
  }
}

/**
 * A guestbook under the named policy 'guestbook' (app.module.ts): any site may read it (`origin: '*'`), only the app's
 * own pages may sign it (`writeOrigin`, from configuration). `'*'` says who may read, not who may cause side effects.
 */
@Cors('guestbook')
@Controller('guestbook')
export class GuestbookController {
  private signatures = 0;
  @Get() read() {
    return { signatures: this.signatures };
  }
  @Post() sign() {
    return { signatures: ++this.signatures };
  }
}
