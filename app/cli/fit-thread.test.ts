import { cdnowRows } from "~/analytics/clv/fixtures.testing";
import { fitParetoNbd } from "~/analytics/clv/pareto-nbd";
import { prepareRows } from "~/analytics/clv/rows";
import { startFitThread } from "./fit";

describe("tenure fit's fitting thread", () => {
  it("fits Pareto/NBD on the thread to the same bits as on the main thread (CDNOW)", async () => {
    const rows = prepareRows(cdnowRows());
    const thread = startFitThread();
    expect(thread).not.toBeNull();
    try {
      const onThread = await thread!.fitParetoNbd(rows, { standardErrors: false });
      const here = fitParetoNbd(rows, { standardErrors: false });
      expect(onThread).toEqual(here);
      expect(onThread.logLikelihood).toBeCloseTo(-9594.9739, 3);
      // A second task on the same thread.
      const again = await thread!.fitParetoNbd(rows, { standardErrors: false });
      expect(again).toEqual(here);
    } finally {
      thread!.close();
    }
  });
});
