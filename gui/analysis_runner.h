// Runs Analysis::open and Analysis::run off the GUI thread and reports back on it, with
// throttled progress and cancellation (the engine's ProgressCallback and CancelToken). Results
// of a job that was cancelled or superseded by a newer one are dropped.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <memory>

#include "engine_handle.h"
#include "gomapcore/error.h"
#include "gomapcore/progress.h"
#include "gomapcore/report.h"

class AnalysisRunner : public QObject {
    Q_OBJECT
  public:
    explicit AnalysisRunner(QObject* parent = nullptr);
    ~AnalysisRunner() override;

    // Starts opening and analyzing a core; a job already running is cancelled.
    void start(const QString& core, const QString& executable, bool redact);
    void cancel();
    bool busy() const { return thread_ != nullptr; }
    // Blocks (running the event loop) until no job runs; false on timeout.
    bool waitIdle(int timeoutMs);

    // Failure codes for failed(): gomapcore::Error::Code as int, or kInternalError.
    static constexpr int kInternalError = -1;

  Q_SIGNALS:
    void progress(const QString& phase, qulonglong done, qulonglong total);
    // The crash, explained before the search for maps (the engine's onCrash): a report holding
    // only the target and the crash, for the crash panel while the rest runs.
    void crashKnown(std::shared_ptr<const gomapcore::Report> crashOnly);
    void finished(std::shared_ptr<EngineHandle> engine, std::shared_ptr<const gomapcore::Report> report);
    void failed(int code, const QString& message);
    void cancelled();
    void idle();

  private:
    void threadDone(QThread* thread);

    QThread* thread_ = nullptr;
    std::shared_ptr<gomapcore::CancelToken> cancel_;
    std::shared_ptr<std::atomic<quint64>> generation_ = std::make_shared<std::atomic<quint64>>(0);
};

// One sentence for an engine error, as the window shows it.
QString describeError(int code, const QString& message);
