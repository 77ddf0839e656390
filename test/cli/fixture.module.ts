// The app the CLI test audits, compiled with src/ by the test (tsc) and loaded by the CLI as a user's build would be.
import { Controller, Get, type INestApplication, Module, Post } from '@nestjs/common';
import { Cors, CorsModule, type CorsOptions } from '../../src/index.js';

@Controller('orders')
class OrdersController {
  @Get() list() {}
  @Post() create() {}
}

function ordersModule(orders: CorsOptions) {
  @Cors(orders)
  @Controller('partner/orders')
  class PartnerOrdersController {
    @Get() list() {}
  }
  @Module({
    imports: [CorsModule.forRoot({ origin: ['https://app.example.com'], methods: ['GET', 'POST'] })],
    controllers: [OrdersController, PartnerOrdersController],
  })
  class OrdersModule {}
  return OrdersModule;
}

export const AppModule = ordersModule({ origin: ['https://partner.example.net'] });
export const WidenedModule = ordersModule({ origin: ['https://partner.example.net'], credentials: true });
export const NarrowedModule = ordersModule({ origin: [] });

@Module({ imports: [CorsModule.forRoot({ origin: '*', credentials: true })] })
export class BrokenModule {}

@Module({ controllers: [OrdersController] })
export class WithoutCorsModule {}

/** What a `main.ts` sets before `app.init()`, shared with the CLI through `--configure`. */
export function configure(app: INestApplication): void {
  app.setGlobalPrefix('api');
}
