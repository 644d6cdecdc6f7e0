#include "analysis_runner.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <exception>

#include "gomapcore/analysis.h"

AnalysisRunner::AnalysisRunner(QObject* parent) : QObject(parent) {}

AnalysisRunner::~AnalysisRunner() {
    if (cancel_) cancel_->cancel();
    ++*generation_;
    // Jobs still running hold `this` for their replies: wait for them (a cancelled run stops at
    // its next step; opening a core is short).
    for (QThread* thread : findChildren<QThread*>()) {
        thread->wait();
        delete thread;
    }
}

void AnalysisRunner::cancel() {
    if (cancel_) cancel_->cancel();
}

void AnalysisRunner::start(const QString& core, const QString& executable, bool redact) {
    if (cancel_) cancel_->cancel();
    const quint64 generation = ++*generation_;
    auto token = std::make_shared<gomapcore::CancelToken>();
    cancel_ = token;
    const std::string corePath = core.toStdString();
    const std::string exePath = executable.toStdString();
    auto current = generation_;
    QThread* thread = QThread::create([this, token, generation, current, corePath, exePath, redact] {
        auto live = [&] { return current->load() == generation; };
        // Progress is posted at most every 50 ms, and on each new phase.
        QElapsedTimer clock;
        clock.start();
        std::string lastPhase;
        qint64 lastPost = -1000;
        auto onProgress = [&](const gomapcore::ProgressEvent& event) {
            const qint64 now = clock.elapsed();
            if (event.phase == lastPhase && now - lastPost < 50) return;
            lastPhase = event.phase;
            lastPost = now;
            QString phase = QString::fromStdString(event.phase);
            qulonglong done = event.done, total = event.total;
            QMetaObject::invokeMethod(
                this,
                [this, current, generation, phase, done, total] {
                    if (current->load() == generation) Q_EMIT progress(phase, done, total);
                },
                Qt::QueuedConnection);
        };
        auto fail = [&](int code, const QString& message) {
            QMetaObject::invokeMethod(
                this,
                [this, current, generation, code, message] {
                    if (current->load() != generation) return;
                    if (code == static_cast<int>(gomapcore::Error::Code::Cancelled))
                        Q_EMIT cancelled();
                    else
                        Q_EMIT failed(code, message);
                },
                Qt::QueuedConnection);
        };
        try {
            onProgress({"open", 0, 0});
            auto engine = std::make_shared<EngineHandle>();
            engine->corePath = corePath;
            engine->executablePath = exePath;
            engine->analysis = gomapcore::Analysis::open(corePath, exePath);
            if (token->cancelled() || !live())
                throw gomapcore::Error(gomapcore::Error::Code::Cancelled, "cancelled");
            gomapcore::AnalysisOptions options;
            options.redact = redact;
            options.cancel = token;
            options.progress = onProgress;
            options.onCrash = [&](const gomapcore::CrashReport& crash, const gomapcore::MapResult*) {
                auto crashOnly = std::make_shared<gomapcore::Report>();
                crashOnly->crash = crash;
                QMetaObject::invokeMethod(
                    this,
                    [this, current, generation, crashOnly] {
                        if (current->load() == generation) Q_EMIT crashKnown(crashOnly);
                    },
                    Qt::QueuedConnection);
            };
            auto report = std::make_shared<const gomapcore::Report>(engine->analysis->run(options));
            if (const gomapcore::GoroutineTable* goroutines = engine->analysis->goroutines())
                engine->goroutinesText = gomapcore::renderGoroutinesText(*goroutines);
            engine->regions = engine->analysis->target().regions();
            QMetaObject::invokeMethod(
                this,
                [this, current, generation, engine, report] {
                    if (current->load() == generation) Q_EMIT finished(engine, report);
                },
                Qt::QueuedConnection);
        } catch (const gomapcore::Error& e) {
            fail(static_cast<int>(e.code()), QString::fromUtf8(e.what()));
        } catch (const std::exception& e) {
            fail(kInternalError, QString::fromUtf8(e.what()));
        }
    });
    thread->setParent(this);
    connect(thread, &QThread::finished, this, [this, thread] { threadDone(thread); });
    thread_ = thread;
    thread->start();
}

void AnalysisRunner::threadDone(QThread* thread) {
    thread->deleteLater();
    if (thread == thread_) {
        thread_ = nullptr;
        Q_EMIT idle();
    }
}

bool AnalysisRunner::waitIdle(int timeoutMs) {
    if (!busy()) return true;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    connect(this, &AnalysisRunner::idle, &loop, &QEventLoop::quit);
    timer.start(timeoutMs);
    loop.exec();
    return !busy();
}

QString describeError(int code, const QString& message) {
    using Code = gomapcore::Error::Code;
    if (code == AnalysisRunner::kInternalError)
        return QString("The analysis stopped on an internal error: %1").arg(message);
    switch (static_cast<Code>(code)) {
        case Code::Unreadable:
            return QString("The file cannot be read: %1").arg(message);
        case Code::NotElfCore:
            return QString("This is not a core dump: %1").arg(message);
        case Code::NotGoProgram:
            return QString("The executable is not a Go program gomapcore can read: %1").arg(message);
        case Code::ExecutableMismatch:
            return QString("The executable does not match the core: %1").arg(message);
        case Code::UnsupportedTarget:
            return QString("gomapcore cannot decode this target: %1").arg(message);
        case Code::MissingExecutable:
            return QString("The Go executable that produced the core was not found: %1").arg(message);
        case Code::Cancelled:
            return "The analysis was cancelled.";
        default:
            return message;
    }
}
