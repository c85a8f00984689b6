//! Dataset files are someone else's data: their image paths must not reach outside the dataset
//! folder (absolute paths, `../`, symlinks), whatever format carries them.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use facture::app::dataset::{ImportError, import_dataset};
use facture::formats::model::Format;
use facture::store::Store;

fn png(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(120, 80, |x, y| image::Rgb([x as u8, y as u8, 7])).save(path).unwrap();
}

fn coco(file_name: &str) -> String {
    serde_json::json!({
        "categories": [{"id": 1, "name": "total_amount"}],
        "images": [{"id": 1, "width": 120, "height": 80, "file_name": file_name}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10.0, 20.0, 20.0, 10.0]}]
    })
    .to_string()
}

fn run(store: &mut Store, format: Format, path: &Path, images: &[PathBuf]) -> Result<usize, ImportError> {
    import_dataset(store, format, path, images, &Default::default(), None, 1, &mut |_, _| {}, &AtomicBool::new(false))
        .map(|r| r.documents.len())
}

/// A workspace's whole content, to check that a refused import changed nothing.
fn counts(store: &Store) -> (i64, i64, i64) {
    (store.document_count().unwrap(), store.annotation_count().unwrap(), store.edit_count().unwrap())
}

#[test]
fn coco_file_names_outside_the_dataset_are_refused_alike_whether_or_not_they_exist() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("private/secret.png");
    png(&secret);
    let data = dir.path().join("shared/dataset");
    png(&data.join("images/ok.png"));
    let mut store = Store::create(&dir.path().join("ws.sqlite")).unwrap();
    let mut messages = Vec::new();
    for name in [
        secret.to_string_lossy().into_owned(),
        "../../private/secret.png".to_string(),
        "/nowhere/at/all/secret.png".to_string(),
        "../../private/missing.png".to_string(),
    ] {
        std::fs::write(data.join("annotations.json"), coco(&name)).unwrap();
        let before = counts(&store);
        let e = run(&mut store, Format::Coco, &data, &[]).unwrap_err();
        assert_eq!(counts(&store), before, "{name}: nothing may be written");
        let msg = e.to_string();
        assert!(msg.contains("not found inside"), "{msg}");
        assert!(msg.contains("--images"), "says how to allow another folder: {msg}");
        messages.push(msg.replace(&name, "NAME"));
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "existence must not show: {messages:#?}");
    // inside the dataset, the same file layout imports
    std::fs::write(data.join("annotations.json"), coco("images/ok.png")).unwrap();
    assert_eq!(run(&mut store, Format::Coco, &data, &[]).unwrap(), 1);
}

#[test]
fn a_folder_the_user_names_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let scans = dir.path().join("scans");
    png(&scans.join("page.png"));
    let data = dir.path().join("dataset");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("annotations.json"), coco(&scans.join("page.png").to_string_lossy())).unwrap();
    let mut store = Store::create(&dir.path().join("ws.sqlite")).unwrap();
    assert!(run(&mut store, Format::Coco, &data, &[]).is_err());
    assert_eq!(run(&mut store, Format::Coco, &data, std::slice::from_ref(&scans)).unwrap(), 1);
    let missing = run(&mut store, Format::Coco, &data, &[dir.path().join("nope")]).unwrap_err();
    assert!(missing.to_string().contains("no such image folder"), "{missing}");
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_dataset_is_not_followed_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.png");
    png(&secret);
    let mut store = Store::create(&dir.path().join("ws.sqlite")).unwrap();
    // COCO naming the link
    let data = dir.path().join("coco");
    std::fs::create_dir_all(data.join("images")).unwrap();
    std::os::unix::fs::symlink(&secret, data.join("images/link.png")).unwrap();
    std::fs::write(data.join("annotations.json"), coco("images/link.png")).unwrap();
    assert!(run(&mut store, Format::Coco, &data, &[]).is_err());
    // YOLO, which lists its image folder itself
    let yolo = dir.path().join("yolo");
    std::fs::create_dir_all(yolo.join("images")).unwrap();
    std::fs::create_dir_all(yolo.join("labels")).unwrap();
    std::os::unix::fs::symlink(&secret, yolo.join("images/link.png")).unwrap();
    std::fs::write(yolo.join("labels/link.txt"), "0 0.5 0.5 0.2 0.2\n").unwrap();
    std::fs::write(yolo.join("classes.txt"), "total_amount\n").unwrap();
    let e = run(&mut store, Format::Yolo, &yolo, &[]).unwrap_err();
    assert!(e.to_string().contains("not an image inside"), "{e}");
    // PPOCR Label.txt with a climbing path
    let ppocr = dir.path().join("ppocr/imgs");
    std::fs::create_dir_all(&ppocr).unwrap();
    std::fs::write(
        ppocr.join("Label.txt"),
        "../../secret.png\t[{\"transcription\": \"x\", \"points\": [[1, 1], [20, 1], [20, 9], [1, 9]]}]\n",
    )
    .unwrap();
    assert!(run(&mut store, Format::Ppocr, &ppocr, &[]).is_err());
    assert_eq!(counts(&store), (0, 0, 0));
}

#[test]
fn an_annotations_folder_stands_for_its_dataset() {
    // COCO as CVAT writes it: annotations/instances.json beside images/
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cvat");
    png(&data.join("images/p.png"));
    std::fs::create_dir_all(data.join("annotations")).unwrap();
    std::fs::write(data.join("annotations/instances_default.json"), coco("p.png")).unwrap();
    let mut store = Store::create(&dir.path().join("ws.sqlite")).unwrap();
    let n = run(&mut store, Format::Coco, &data.join("annotations/instances_default.json"), &[]).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn two_dataset_imports_at_once_write_each_box_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dataset");
    let mut images = Vec::new();
    let mut annotations = Vec::new();
    for i in 1..=6 {
        png(&data.join(format!("images/p{i}.png")));
        // distinct content per page
        let img = image::RgbImage::from_fn(120, 80, |x, y| image::Rgb([x as u8, y as u8, i as u8]));
        img.save(data.join(format!("images/p{i}.png"))).unwrap();
        images.push(serde_json::json!({"id": i, "width": 120, "height": 80, "file_name": format!("p{i}.png")}));
        for k in 0..3 {
            annotations.push(serde_json::json!({"id": i * 10 + k, "image_id": i, "category_id": 1,
                "bbox": [5.0 + 30.0 * k as f64, 5.0, 20.0, 10.0]}));
        }
    }
    let file = serde_json::json!({"categories": [{"id": 1, "name": "total_amount"}], "images": images,
        "annotations": annotations});
    std::fs::write(data.join("annotations.json"), file.to_string()).unwrap();
    let ws = dir.path().join("ws.sqlite");
    drop(Store::create(&ws).unwrap());
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (ws, data, barrier) = (ws.clone(), data.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&ws).unwrap();
                barrier.wait();
                import_dataset(
                    &mut store,
                    Format::Coco,
                    &data,
                    &[],
                    &Default::default(),
                    None,
                    1,
                    &mut |_, _| {},
                    &AtomicBool::new(false),
                )
                .unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let store = Store::open(&ws).unwrap();
    assert_eq!(store.annotation_count().unwrap(), 18, "{reports:?}");
    assert_eq!(store.document_count().unwrap(), 6);
    let docs: usize = reports.iter().map(|r| r.documents.len()).sum();
    let skipped: usize = reports.iter().map(|r| r.skipped.len()).sum();
    assert_eq!((docs, skipped), (6, 6), "{reports:?}");
}
