import { describe, expect, it } from 'vitest';
import { viewFromStatus } from '../../../web/src/client/zones.js';
import { EN, KO, humanizeWaitRange } from '../../../web/src/waiting-room-text.js';
import type { RoomStatus, TokenView } from '../../../lambdas/domain/model.js';

describe('the range of waits on the page', () => {
  it('says a range of minutes under an hour, the upper end alone beyond, and less than a minute below', () => {
    expect(humanizeWaitRange(240, 540, EN)).toBe('4 to 9 minutes');
    expect(humanizeWaitRange(20, 300, EN)).toBe('up to 5 minutes');
    expect(humanizeWaitRange(300, 300, EN)).toBe('about 5 minutes');
    expect(humanizeWaitRange(10, 50, EN)).toBe('less than a minute');
    expect(humanizeWaitRange(1_800, 5_400, EN)).toBe('about 1 h 30 min');
    expect(humanizeWaitRange(240, 540, KO)).toBe('4~9분');
  });

  it("recomputes the range of a far-back view from the status's calibration, not the last view's", () => {
    const view = { roomId: 'shop', tokenId: 't', ticket: 400, state: 'waiting', position: 390, estimatedWaitSeconds: 390, estimatedWaitLowSeconds: 195, estimatedWaitHighSeconds: 390 } as TokenView;
    const status = {
      roomId: 'shop',
      state: 'open',
      mode: 'fifo',
      lastAdmittedTicket: 100,
      frontZoneTicket: 160,
      ticketsPerSecond: 1,
      rateMeasured: true,
      heartbeatIntervalSeconds: 5,
      keepPlaceIntervalSeconds: 300,
      estimateCalibration: { lowFactor: 0.6, highFactor: 0.9, samples: 40 },
    } as RoomStatus;
    expect(viewFromStatus(view, status)).toMatchObject({ position: 300, estimatedWaitSeconds: 300, estimatedWaitLowSeconds: 180, estimatedWaitHighSeconds: 270 });
    // A status cached from before ranges existed: the default calibration (half the estimate up to it).
    const { estimateCalibration: _none, ...older } = status;
    expect(viewFromStatus(view, older as RoomStatus)).toMatchObject({ estimatedWaitLowSeconds: 150, estimatedWaitHighSeconds: 300 });
  });
});
