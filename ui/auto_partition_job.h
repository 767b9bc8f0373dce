#pragma once
// The window's background auto-partition search: one thread, joined when the next search
// starts or the window goes (a search takes well under a second).
#include <thread>

namespace pipelab::ui {

struct AutoPartitionJob {
    std::thread worker;
    ~AutoPartitionJob() {
        if (worker.joinable()) worker.join();
    }
};

}  // namespace pipelab::ui
