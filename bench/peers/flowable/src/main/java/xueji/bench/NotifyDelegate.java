package xueji.bench;

import org.flowable.engine.delegate.DelegateExecution;
import org.flowable.engine.delegate.JavaDelegate;

/** The notification to report: a no-op, as the peer measures the engine, not a mail server. */
public class NotifyDelegate implements JavaDelegate {
    @Override
    public void execute(DelegateExecution execution) {
        execution.setVariable("notified", Boolean.TRUE);
    }
}
