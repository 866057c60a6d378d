//! Typed decoding of real replies: QEMU 7.2 and qemu-ga 7.2 transcripts and
//! libvirt's recorded QMP replies (QEMU 4.2 … 10.0). Replies are decoded in
//! lenient mode, as a client would; specific values are asserted. Requests
//! from the QGA transcripts are decoded in strict mode, and where qemu-ga
//! rejected one, our error message is compared with the agent's `desc`.

use qwire::codec::{Decode, Mode};
use qwire::envelope::{classify, Message};
use qwire::json::Json;
use qwire::qga::schema as qga;
use qwire::qmp::schema as qmp;
use qwire_tests::{messages, shared, shared_file, with_big_stack};

/// The `return` values in a server transcript.
fn returns(rel: &str) -> Vec<Vec<u8>> {
    messages(&shared_file(rel))
        .into_iter()
        .filter_map(|m| match classify(Json::parse(&m).unwrap()) {
            Message::Return(r) => Some(r.value.as_bytes().to_vec()),
            _ => None,
        })
        .collect()
}

/// The one `return` value of a transcript, decoded leniently as `T`.
fn decode_return<T: Decode + Default>(rel: &str) -> T {
    let r = returns(rel);
    assert_eq!(r.len(), 1, "{rel}");
    T::decode(Json::parse(&r[0]).unwrap(), Mode::Lenient).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const QMP_DIRS: &[&str] = &["qmp-none", "qmp-pc-tcg"];

#[test]
fn qemu_7_2_query_version_name_kvm_uuid() {
    for dir in QMP_DIRS {
        let v: qmp::VersionInfo =
            decode_return(&format!("corpus/qemu-7.2/{dir}/03-query-version.s2c.bin"));
        assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (7, 2, 22));
        assert_eq!(v.package.as_str(), "Debian 1:7.2+dfsg-7+deb12u18+b3");
        let n: qmp::NameInfo =
            decode_return(&format!("corpus/qemu-7.2/{dir}/05-query-name.s2c.bin"));
        assert_eq!(n.name, None);
        let k: qmp::KvmInfo = decode_return(&format!("corpus/qemu-7.2/{dir}/06-query-kvm.s2c.bin"));
        assert_eq!((k.enabled, k.present), (false, true));
        let u: qmp::UuidInfo =
            decode_return(&format!("corpus/qemu-7.2/{dir}/07-query-uuid.s2c.bin"));
        assert_eq!(u.uuid.as_str(), "00000000-0000-0000-0000-000000000000");
    }
    let n: qmp::NameInfo = decode_return("corpus/qemu-7.2/qmp-extra/A-02-query-name.s2c.bin");
    assert_eq!(n.name.as_deref(), Some("qmp-test"));
    let u: qmp::UuidInfo = decode_return("corpus/qemu-7.2/qmp-extra/A-03-query-uuid.s2c.bin");
    assert_eq!(u.uuid.as_str(), "12345678-1234-5678-9abc-def012345678");
    let b: qmp::BalloonInfo = decode_return("corpus/qemu-7.2/qmp-extra/A-04-query-balloon.s2c.bin");
    assert_eq!(b.actual, 67108864);
}

#[test]
fn qemu_7_2_query_commands_and_iothreads() {
    with_big_stack(|| {
        for dir in QMP_DIRS {
            let rel = format!("corpus/qemu-7.2/{dir}/08-query-commands.s2c.bin");
            let r = returns(&rel);
            let value = Json::parse(&r[0]).unwrap();
            let Some(Ok(qmp::Response::QueryCommands(list))) =
                qmp::decode_response("query-commands", value, Mode::Lenient)
            else {
                panic!("{rel}")
            };
            assert_eq!(list.len(), 216);
            assert_eq!(list.len(), value.elements().count());
            for name in [
                "query-version",
                "qmp_capabilities",
                "query-commands",
                "quit",
                "stop",
            ] {
                assert!(list.iter().any(|c| c.name.as_str() == name), "{name}");
            }
            // Every name exactly as on the wire.
            for (c, raw) in list.iter().zip(value.elements()) {
                assert!(raw
                    .get("name")
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .eq_str(c.name.as_str()));
            }
            let threads: <qmp::QueryIothreads as qwire::codec::Command>::Returns =
                decode_return(&format!("corpus/qemu-7.2/{dir}/12-query-iothreads.s2c.bin"));
            assert!(threads.is_empty());
        }
    });
}

/// libvirt's files: pretty-printed commands and replies separated by blank
/// lines; each reply follows its command and carries the same id.
fn libvirt_pairs(file: &str) -> Vec<(String, Vec<u8>)> {
    let text = String::from_utf8(shared_file(&format!("corpus/libvirt/{file}"))).unwrap();
    let parts: Vec<&str> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .collect();
    let mut out = Vec::new();
    for pair in parts.chunks(2) {
        let [cmd, reply] = pair else {
            panic!("{file}: odd number of messages")
        };
        let cmd = Json::parse(cmd.as_bytes()).unwrap();
        let reply = Json::parse(reply.as_bytes()).unwrap();
        let Message::Command(c) = classify(cmd) else {
            panic!("{file}: not a command")
        };
        let id = c.id.unwrap();
        assert_eq!(
            Some(id.as_str().unwrap().to_string()),
            reply.get("id").map(|i| i.as_str().unwrap().to_string()),
            "{file}"
        );
        assert!(id.as_str().unwrap().to_string().starts_with("libvirt-"));
        if let Message::Return(r) = classify(reply) {
            out.push((c.name.to_string(), r.value.as_bytes().to_vec()));
        }
    }
    out
}

#[test]
fn libvirt_replies() {
    with_big_stack(|| {
        let files = [
            ("caps_4.2.0.x86_64.replies", (4, 2, 0), Some(183)),
            ("caps_6.2.0_x86_64.replies", (6, 2, 0), None),
            ("caps_7.2.0_x86_64.replies", (7, 2, 0), None),
            ("caps_8.2.0_x86_64.replies", (8, 2, 0), None),
            ("caps_9.2.0_x86_64.replies", (9, 2, 0), None),
            ("caps_10.0.0_x86_64.replies", (10, 0, 0), None),
        ];
        for (file, version, commands) in files {
            let mut decoded = Vec::new();
            for (name, value) in libvirt_pairs(file) {
                let value = Json::parse(&value).unwrap();
                match (
                    name.as_str(),
                    qmp::decode_response(&name, value, Mode::Lenient),
                ) {
                    (_, None) => continue,
                    ("query-version", Some(Ok(qmp::Response::QueryVersion(v)))) => {
                        assert_eq!(
                            (v.qemu.major, v.qemu.minor, v.qemu.micro),
                            version,
                            "{file}"
                        );
                        assert_eq!(
                            v.package.as_str(),
                            format!("v{}.{}.{}", version.0, version.1, version.2)
                        );
                    }
                    ("query-kvm", Some(Ok(qmp::Response::QueryKvm(k)))) => {
                        assert!(k.enabled && k.present, "{file}")
                    }
                    ("query-commands", Some(Ok(qmp::Response::QueryCommands(list)))) => {
                        assert_eq!(Some(list.len()), commands, "{file}");
                    }
                    (_, Some(Ok(other))) => assert_eq!(other.name(), name),
                    (_, Some(Err(e))) => panic!("{file}: {name}: {e}"),
                }
                decoded.push(name);
            }
            // Every reply to a command the seed knows decodes; these are they.
            let mut expected = vec![
                "qmp_capabilities",
                "qmp_capabilities",
                "query-kvm",
                "query-version",
            ];
            if commands.is_some() {
                expected.push("query-commands");
            }
            decoded.sort();
            expected.sort();
            assert_eq!(decoded, expected, "{file}");
        }
    });
}

const QGA: &str = "corpus/qemu-7.2/qga";

#[test]
fn qga_guest_info() {
    let info: qga::GuestAgentInfo = decode_return(&format!("{QGA}/01-guest-info.s2c.bin"));
    assert_eq!(info.version.as_str(), "7.2.22");
    assert_eq!(info.supported_commands.len(), 42);
    let sync = info
        .supported_commands
        .iter()
        .find(|c| c.name.as_str() == "guest-sync-delimited")
        .unwrap();
    assert!(sync.enabled && sync.success_response);
    let cpustats = info
        .supported_commands
        .iter()
        .find(|c| c.name.as_str() == "guest-get-cpustats")
        .unwrap();
    assert!(!cpustats.enabled);
    assert_eq!(
        info.supported_commands.iter().filter(|c| c.enabled).count(),
        18
    );
    // Every command of the seed is among them.
    for c in qga::COMMANDS {
        assert!(
            info.supported_commands
                .iter()
                .any(|s| s.name.as_str() == c.name),
            "{}",
            c.name
        );
    }
}

#[test]
fn qga_scalars_and_lists() {
    let t: i64 = decode_return(&format!("{QGA}/05-guest-get-time.s2c.bin"));
    assert_eq!(t, 1795307918897404000);
    let vcpus: <qga::GuestGetVcpus as qwire::codec::Command>::Returns =
        decode_return(&format!("{QGA}/07-guest-get-vcpus.s2c.bin"));
    assert_eq!(vcpus.len(), 2);
    assert_eq!(
        (vcpus[0].logical_id, vcpus[0].online, vcpus[0].can_offline),
        (1, true, Some(true))
    );
    assert_eq!(
        (vcpus[1].logical_id, vcpus[1].online, vcpus[1].can_offline),
        (0, true, Some(false))
    );
}

#[test]
fn qga_network_interfaces_ignore_newer_members() {
    with_big_stack(|| {
        let rel = format!("{QGA}/06-guest-network-get-interfaces.s2c.bin");
        let ifs: <qga::GuestNetworkGetInterfaces as qwire::codec::Command>::Returns =
            decode_return(&rel);
        let names: Vec<&str> = ifs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["lo", "ifb0", "ifb1", "eth0"]);
        let lo = &ifs[0];
        assert_eq!(lo.hardware_address.as_deref(), Some("00:00:00:00:00:00"));
        let addrs = lo.ip_addresses.as_ref().unwrap();
        assert_eq!(addrs.len(), 2);
        assert_eq!(addrs[0].ip_address.as_str(), "127.0.0.1");
        assert_eq!(addrs[0].ip_address_type, qga::GuestIpAddressType::Ipv4);
        assert_eq!(addrs[0].prefix, 8);
        assert_eq!(addrs[1].ip_address_type, qga::GuestIpAddressType::Ipv6);
        assert_eq!(ifs[1].ip_addresses, None);
        assert_eq!(
            ifs[3].ip_addresses.as_ref().unwrap()[2].ip_address.as_str(),
            "fe80::fc:ff:fe00:1"
        );
        // qemu-ga 7.2 adds `statistics` (since 2.11): unknown to the seed,
        // ignored in lenient mode, an error in strict mode.
        let bytes = returns(&rel).remove(0);
        let value = Json::parse(&bytes).unwrap();
        let e = <qga::GuestNetworkGetInterfaces as qwire::codec::Command>::Returns::decode(
            value,
            Mode::Strict,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Parameter '[0].statistics' is unexpected");
    });
}

#[test]
fn qga_fsinfo_ignores_newer_members() {
    with_big_stack(|| {
        let fs: <qga::GuestGetFsinfo as qwire::codec::Command>::Returns =
            decode_return(&format!("{QGA}/08-guest-get-fsinfo.s2c.bin"));
        assert_eq!(fs.len(), 1);
        let vda = &fs[0];
        assert_eq!(
            (
                vda.name.as_str(),
                vda.mountpoint.as_str(),
                vda.type_.as_str()
            ),
            ("vda", "/", "ext4")
        );
        assert_eq!(vda.disk.len(), 1);
        let d = &vda.disk[0];
        assert_eq!(d.bus_type, qga::GuestDiskBusType::Virtio);
        assert_eq!((d.bus, d.target, d.unit), (0, 0, 0));
        assert_eq!(
            (
                d.pci_controller.domain,
                d.pci_controller.bus,
                d.pci_controller.slot,
                d.pci_controller.function
            ),
            (0, 0, 2, 0)
        );
    });
}

#[test]
fn qga_file_commands() {
    let handle: i64 = decode_return(&format!("{QGA}/10a-file-open-w+.s2c.bin"));
    assert_eq!(handle, 1000);
    let w: qga::GuestFileWrite = decode_return(&format!("{QGA}/10b-file-write.s2c.bin"));
    assert_eq!((w.count, w.eof), (28, false));
    let s: qga::GuestFileSeek = decode_return(&format!("{QGA}/10d-file-seek-0-set.s2c.bin"));
    assert_eq!((s.position, s.eof), (0, false));
    let r: qga::GuestFileRead = decode_return(&format!("{QGA}/10e-file-read.s2c.bin"));
    assert_eq!(
        (r.count, r.buf_b64.as_str(), r.eof),
        (28, "aGVsbG8gZnJvbSBxZ2EKAP8gYmluYXJ5IG9rCg==", true)
    );
    let r: qga::GuestFileRead = decode_return(&format!("{QGA}/10f-file-read-eof.s2c.bin"));
    assert_eq!((r.count, r.buf_b64.as_str(), r.eof), (0, "", true));
    let s: qga::GuestFileSeek = decode_return(&format!("{QGA}/10g-file-seek-whence-int.s2c.bin"));
    assert_eq!((s.position, s.eof), (6, false));
    let r: qga::GuestFileRead = decode_return(&format!("{QGA}/10h-file-read-5.s2c.bin"));
    assert_eq!((r.count, r.buf_b64.as_str(), r.eof), (5, "ZnJvbSA=", false));
}

/// The one request of a client transcript, decoded strictly.
fn request(rel: &str) -> Result<qga::Request, String> {
    let msgs = messages(&shared_file(rel));
    let [m] = msgs.as_slice() else {
        panic!("{rel}: {} messages", msgs.len())
    };
    let Message::Command(c) = classify(Json::parse(m).unwrap()) else {
        panic!("{rel}")
    };
    qga::decode_request(c.name, c.arguments, Mode::Strict).map_err(|e| e.to_string())
}

/// The `desc` of the one error reply of a server transcript.
fn error_desc(rel: &str) -> String {
    let msgs = messages(&shared_file(rel));
    msgs.iter()
        .find_map(|m| match classify(Json::parse(m).unwrap()) {
            Message::Error(e) => Some(e.desc.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{rel}: no error"))
}

#[test]
fn qga_requests_decode_strictly() {
    with_big_stack(|| {
        match request(&format!("{QGA}/10a-file-open-w+.c2s.bin")).unwrap() {
            qga::Request::GuestFileOpen(a) => {
                assert_eq!(
                    (a.path.as_str(), a.mode.as_deref()),
                    ("/tmp/q/f.txt", Some("w+"))
                );
            }
            other => panic!("{other:?}"),
        }
        match request(&format!("{QGA}/10b-file-write.c2s.bin")).unwrap() {
            qga::Request::GuestFileWriteCommand(a) => {
                assert_eq!(
                    (a.handle, a.buf_b64.as_str(), a.count),
                    (1000, "aGVsbG8gZnJvbSBxZ2EKAP8gYmluYXJ5IG9rCg==", None)
                );
            }
            other => panic!("{other:?}"),
        }
        match request(&format!("{QGA}/10g-file-seek-whence-int.c2s.bin")).unwrap() {
            qga::Request::GuestFileSeekCommand(a) => {
                assert_eq!((a.handle, a.offset, a.whence), (1000, 6, 0))
            }
            other => panic!("{other:?}"),
        }
        // The 2.2 seed has an integer whence; symbolic whence came in 2.6.
        assert_eq!(
            request(&format!("{QGA}/10d-file-seek-0-set.c2s.bin")).unwrap_err(),
            "Invalid parameter type for 'whence', expected: integer"
        );
        assert_eq!(
            request(&format!("{QGA}/04-guest-ping.c2s.bin")).unwrap(),
            qga::Request::GuestPing(Default::default())
        );
        match request(&format!("{QGA}/17b-sync-negative-id.c2s.bin")).unwrap() {
            qga::Request::GuestSync(a) => assert_eq!(a.id, -1),
            other => panic!("{other:?}"),
        }
        // Where qemu-ga rejected the request, we say exactly what it said.
        for case in [
            "12b-missing-argument",
            "12c-wrong-arg-type",
            "17-sync-big-id",
        ] {
            let ours = request(&format!("{QGA}/{case}.c2s.bin")).unwrap_err();
            assert_eq!(ours, error_desc(&format!("{QGA}/{case}.s2c.bin")), "{case}");
        }
        let unknown = messages(&shared_file(&format!("{QGA}/12-unknown-command.c2s.bin")));
        let Message::Command(c) = classify(Json::parse(&unknown[0]).unwrap()) else {
            panic!()
        };
        let e = qga::decode_request(c.name, c.arguments, Mode::Strict).unwrap_err();
        assert_eq!(e.class(), "CommandNotFound");
        assert_eq!(
            e.to_string(),
            error_desc(&format!("{QGA}/12-unknown-command.s2c.bin"))
        );
        let _ = shared();
    });
}
